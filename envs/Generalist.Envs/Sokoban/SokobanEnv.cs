using SkiaSharp;
using Generalist.Episodes;

namespace Generalist.Envs;

/// <summary>Rendering and limit options of <see cref="SokobanEnv"/>.</summary>
public sealed record SokobanOptions(int ViewCells = 20, int TilePixels = 4, int MaxSteps = 1000)
{
    public void Validate()
    {
        if (ViewCells is < 4 or > 64) throw new ArgumentException($"sokoban: ViewCells must be in [4, 64] (got {ViewCells})");
        if (TilePixels is < 1 or > 16) throw new ArgumentException($"sokoban: TilePixels must be in [1, 16] (got {TilePixels})");
        if (MaxSteps is < 1 or > 100_000) throw new ArgumentException($"sokoban: MaxSteps must be in [1, 100000] (got {MaxSteps})");
    }
}

/// <summary>
/// Sokoban on given levels (the real levels come from the data area). Reset(seed) plays level
/// seed mod the level count, so seeds 0..n-1 visit every level once (<see cref="ResetToLevel"/>
/// picks one by index). Moving into a box
/// pushes it when the cell beyond is free. Reward as gym-sokoban: -0.1 per step, +1 for a box
/// pushed onto a goal, -1 for one pushed off, +10 and termination when every box is on a goal;
/// truncation at MaxSteps. Observed as an RGB image of ViewCells x ViewCells tiles (TilePixels
/// each, default 80x80): a level larger than the view shows the window around the player.
/// Colours: outside black, floor (40,40,40), wall (140,90,50), goal (200,40,40), box (220,200,40),
/// box on goal (40,200,60), player (40,90,230), player on goal (120,200,240).
/// </summary>
public sealed class SokobanEnv : EnvironmentBase, IDisposable
{
    private enum Tile { Floor, Wall, Goal, Box, BoxOnGoal, Player, PlayerOnGoal }

    private static readonly SKColor[] Palette =
    [
        new(40, 40, 40), new(140, 90, 50), new(200, 40, 40), new(220, 200, 40), new(40, 200, 60), new(40, 90, 230), new(120, 200, 240),
    ];

    private readonly IReadOnlyList<SokobanLevel> levels;
    private readonly SokobanOptions options;
    private readonly TileRenderer renderer;
    private int? forcedLevel;
    private SKImage? scenery; // floor, walls and goals of the current level, drawn once per reset
    private readonly List<(int Row, int Column, int Color)> pieces = [];
    private bool[] walls = [], goals = [], boxes = [];
    private int width, height, player, boxesOnGoals;

    public SokobanEnv(IReadOnlyList<SokobanLevel> levels, SokobanOptions? options = null)
    {
        this.options = options ?? new SokobanOptions();
        this.options.Validate();
        if (levels.Count == 0) throw new ArgumentException("sokoban: needs at least one level");
        foreach (var level in levels) level.Validate("sokoban");
        this.levels = levels;
        var o = this.options;
        Spec = new EnvSpec(
            "sokoban",
            "Push every box onto a goal (real Sokoban levels), seen as an RGB image.",
            new ObservationLayout()
                .Image("board", o.ViewCells * o.TilePixels, o.ViewCells * o.TilePixels, 3,
                    $"{o.ViewCells}x{o.ViewCells} tiles of {o.TilePixels} px: floor, wall, goal, box, box on goal, player, player on goal by colour")
                .Build(),
            ActionSpace.Discrete("up", "down", "left", "right"),
            o.MaxSteps);
        renderer = new TileRenderer(o.ViewCells, o.ViewCells, o.TilePixels, Palette, SKColors.Black, grayscale: false);
    }

    public override EnvSpec Spec { get; }

    public IReadOnlyList<SokobanLevel> Levels => levels;

    public int LevelIndex { get; private set; }

    public SokobanLevel Level => levels[LevelIndex];

    public bool Solved => boxesOnGoals == goals.Count(g => g) && boxesOnGoals > 0;

    /// <summary>Starts an episode on the level with this index.</summary>
    public Observation ResetToLevel(int index)
    {
        if (index < 0 || index >= levels.Count) throw new ArgumentException($"sokoban: level index must be in [0, {levels.Count}) (got {index})");
        forcedLevel = index;
        try { return Reset(index); }
        finally { forcedLevel = null; }
    }

    protected override void ResetState(EnvRandom random)
    {
        LevelIndex = forcedLevel ?? (int)(((EpisodeSeed % levels.Count) + levels.Count) % levels.Count);
        var level = Level;
        (width, height) = (level.Width, level.Height);
        walls = new bool[width * height];
        goals = new bool[width * height];
        boxes = new bool[width * height];
        boxesOnGoals = 0;
        for (var r = 0; r < height; r++)
            for (var c = 0; c < width; c++)
            {
                var i = r * width + c;
                var ch = level.At(r, c);
                walls[i] = ch == '#';
                goals[i] = ch is '.' or '*' or '+';
                boxes[i] = ch is '$' or '*';
                if (ch is '@' or '+') player = i;
                if (ch == '*') boxesOnGoals++;
            }
        scenery?.Dispose();
        scenery = renderer.RenderLayer(height, width, (r, c) =>
        {
            var i = r * width + c;
            return (int)(walls[i] ? Tile.Wall : goals[i] ? Tile.Goal : Tile.Floor);
        });
    }

    protected override (float Reward, bool Terminated) Advance(ActionValue action)
    {
        var (dr, dc) = GridNavEnv.Moves[action.Discrete![0]];
        var reward = -0.1f;
        var next = Neighbour(player, dr, dc);
        if (next < 0 || walls[next]) return (reward, false);
        if (boxes[next])
        {
            var beyond = Neighbour(next, dr, dc);
            if (beyond < 0 || walls[beyond] || boxes[beyond]) return (reward, false);
            boxes[next] = false;
            boxes[beyond] = true;
            if (goals[next]) { boxesOnGoals--; reward -= 1f; }
            if (goals[beyond]) { boxesOnGoals++; reward += 1f; }
        }
        player = next;
        if (!Solved) return (reward, false);
        return (reward + 10f, true);
    }

    private int Neighbour(int cell, int dr, int dc)
    {
        int r = cell / width + dr, c = cell % width + dc;
        return r < 0 || r >= height || c < 0 || c >= width ? -1 : r * width + c;
    }

    protected override Observation Observe()
    {
        var view = options.ViewCells;
        var top = WindowStart(player / width, height, view);
        var left = WindowStart(player % width, width, view);
        pieces.Clear();
        for (var i = 0; i < boxes.Length; i++)
            if (boxes[i]) pieces.Add((i / width - top, i % width - left, (int)(goals[i] ? Tile.BoxOnGoal : Tile.Box)));
        pieces.Add((player / width - top, player % width - left, (int)(goals[player] ? Tile.PlayerOnGoal : Tile.Player)));
        return new Observation(Image: renderer.Render(scenery!, top, left, System.Runtime.InteropServices.CollectionsMarshal.AsSpan(pieces)));
    }

    /// <summary>First row (or column) shown: 0 when the level fits, else centred on the player and clamped to the level.</summary>
    private static int WindowStart(int playerCoordinate, int size, int view) =>
        size <= view ? 0 : Math.Clamp(playerCoordinate - view / 2, 0, size - view);

    /// <summary>The board as .sok text (for debugging and tests).</summary>
    public string Board()
    {
        var rows = new List<string>();
        for (var r = 0; r < height; r++)
            rows.Add(new string(Enumerable.Range(0, width).Select(c =>
            {
                var i = r * width + c;
                return walls[i] ? '#' : i == player ? (goals[i] ? '+' : '@') : boxes[i] ? (goals[i] ? '*' : '$') : goals[i] ? '.' : ' ';
            }).ToArray()).TrimEnd());
        return string.Join('\n', rows);
    }

    public void Dispose()
    {
        scenery?.Dispose();
        renderer.Dispose();
    }
}

/// <summary>Replays the level's recorded solution move by move (the expert must drive the episode from its start).</summary>
public sealed class SokobanExpert : ExpertPolicy<SokobanEnv>
{
    /// <summary>Open loop: move k of the solution is played at step k whatever the board shows, so
    /// one foreign move (a perturbation) would derail it; a random push can also make a level
    /// unsolvable. Sokoban data is therefore never collected with action noise.</summary>
    public override bool IsClosedLoop => false;

    protected override ActionValue Act(SokobanEnv env)
    {
        var solution = env.Level.Solution ?? throw new InvalidOperationException($"sokoban: level '{env.Level.Title}' has no solution to replay");
        if (env.StepCount >= solution.Length)
            throw new InvalidOperationException($"sokoban: the solution of '{env.Level.Title}' ended after {solution.Length} moves without solving it");
        return ActionValue.OfDiscrete(solution.Moves[env.StepCount].Direction);
    }
}
