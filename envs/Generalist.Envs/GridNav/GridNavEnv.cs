
using Generalist.Episodes;

namespace Generalist.Envs;

/// <summary>
/// Grid navigation with a text mission, in the spirit of BabyAI's GoTo: an 8x8 room (walls on the
/// border and a few inside) holds a target and three distractor objects (balls, boxes, keys in six
/// colours); the mission names the target ("go to the red ball"). Moving into the target ends the
/// episode with reward 1 - 0.9 * steps / 40; walls and distractors block. Truncation at 40 steps.
/// The grid is observed as 64 discrete codes, row-major from the top-left:
/// 0 floor, 1 wall, 2 agent, 3 + 6 * kind + colour for an object (kind: ball 0, box 1, key 2;
/// colour: red 0, green 1, blue 2, purple 3, yellow 4, grey 5).
/// </summary>
public sealed class GridNavEnv : EnvironmentBase
{
    public const int Size = 8, Distractors = 3, InnerWalls = 4;
    public const int Floor = 0, Wall = 1, Agent = 2, FirstObject = 3;
    public static readonly string[] Kinds = ["ball", "box", "key"];
    public static readonly string[] Colors = ["red", "green", "blue", "purple", "yellow", "grey"];
    public static readonly (int Dr, int Dc)[] Moves = [(-1, 0), (1, 0), (0, -1), (0, 1)];

    private static readonly EnvSpec TheSpec = new(
        "gridnav",
        "Go to the object the text mission names in a small walled grid.",
        new ObservationLayout()
            .Text("mission", "\"go to the COLOUR KIND\"")
            .Discrete("grid", [Size, Size], 0, FirstObject + Kinds.Length * Colors.Length - 1,
                "8x8 cells row-major: 0 floor, 1 wall, 2 agent, 3 + 6*kind + colour for objects")
            .Build(),
        ActionSpace.Discrete("up", "down", "left", "right"),
        40);

    private readonly int[] grid = new int[Size * Size];

    public override EnvSpec Spec => TheSpec;

    public string Mission { get; private set; } = "";

    public (int Row, int Column) AgentCell { get; private set; }

    public (int Row, int Column) TargetCell { get; private set; }

    /// <summary>The cell code at (row, column); the agent's cell reads as 2.</summary>
    public int this[int row, int column] => (row, column) == AgentCell ? Agent : grid[row * Size + column];

    public static int ObjectCode(int kind, int color) => FirstObject + kind * Colors.Length + color;

    protected override void ResetState(EnvRandom random)
    {
        // Draw layouts until the target is reachable from the agent (almost always the first).
        while (true)
        {
            Array.Fill(grid, Floor);
            for (var i = 0; i < Size; i++)
            {
                grid[i] = grid[(Size - 1) * Size + i] = grid[i * Size] = grid[i * Size + Size - 1] = Wall;
            }
            for (var w = 0; w < InnerWalls; w++) grid[RandomFreeCell(random)] = Wall;
            var used = new HashSet<int>();
            var codes = new List<int>();
            while (codes.Count < 1 + Distractors)
            {
                var code = ObjectCode(random.Next(Kinds.Length), random.Next(Colors.Length));
                if (used.Add(code)) codes.Add(code);
            }
            var cells = codes.Select(code => { var cell = RandomFreeCell(random); grid[cell] = code; return cell; }).ToList();
            var agent = RandomFreeCell(random);
            AgentCell = (agent / Size, agent % Size);
            TargetCell = (cells[0] / Size, cells[0] % Size);
            var kind = (codes[0] - FirstObject) / Colors.Length;
            var color = (codes[0] - FirstObject) % Colors.Length;
            Mission = $"go to the {Colors[color]} {Kinds[kind]}";
            if (ShortestPath() is not null) return;
        }
    }

    private int RandomFreeCell(EnvRandom random)
    {
        while (true)
        {
            var cell = random.Next(Size * Size);
            if (grid[cell] == Floor) return cell; // the agent is placed last, so it never lands on an object
        }
    }

    protected override (float Reward, bool Terminated) Advance(ActionValue action)
    {
        var (dr, dc) = Moves[action.Discrete![0]];
        var next = (AgentCell.Row + dr, AgentCell.Column + dc);
        if (next == TargetCell) return ((float)(1 - 0.9 * (StepCount + 1) / Spec.MaxSteps), true);
        if (grid[next.Item1 * Size + next.Item2] == Floor) AgentCell = next;
        return (0f, false);
    }

    protected override Observation Observe()
    {
        var codes = (int[])grid.Clone();
        codes[AgentCell.Row * Size + AgentCell.Column] = Agent;
        return new Observation(Text: Mission, Discrete: codes);
    }

    /// <summary>Breadth-first search over floor cells; the list of moves that bumps into the target, or null when none exists.</summary>
    public List<int>? ShortestPath()
    {
        var start = AgentCell.Row * Size + AgentCell.Column;
        var target = TargetCell.Row * Size + TargetCell.Column;
        var previous = new int[Size * Size];
        var move = new int[Size * Size];
        Array.Fill(previous, -1);
        previous[start] = start;
        var queue = new Queue<int>([start]);
        while (queue.Count > 0)
        {
            var cell = queue.Dequeue();
            for (var m = 0; m < Moves.Length; m++)
            {
                var next = (cell / Size + Moves[m].Dr) * Size + cell % Size + Moves[m].Dc;
                if (previous[next] >= 0 || (grid[next] != Floor && next != target)) continue;
                previous[next] = cell;
                move[next] = m;
                if (next == target)
                {
                    var path = new List<int>();
                    for (var c = target; c != start; c = previous[c]) path.Add(move[c]);
                    path.Reverse();
                    return path;
                }
                queue.Enqueue(next);
            }
        }
        return null;
    }
}

/// <summary>Plans a shortest path to the mission's object with breadth-first search and takes its first move.</summary>
public sealed class GridNavExpert : ExpertPolicy<GridNavEnv>
{
    protected override ActionValue Act(GridNavEnv env) =>
        ActionValue.OfDiscrete((env.ShortestPath() ?? throw new InvalidOperationException("gridnav: the target is unreachable"))[0]);
}
