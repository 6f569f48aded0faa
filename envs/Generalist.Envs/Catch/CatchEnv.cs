using SkiaSharp;
using Generalist.Episodes;

namespace Generalist.Envs;

/// <summary>
/// Catch (as in DeepMind's bsuite): a ball starts in a random column of the top row and falls one
/// row per step; a one-cell paddle on the bottom row moves left, stays or moves right. When the
/// ball reaches the bottom row the episode ends with +1 if the paddle is under it, else -1.
/// Observed only as pixels: an 8x8 board drawn with 2-pixel cells, a 16x16 grayscale image
/// (background 0, ball 255, paddle 160).
/// </summary>
public sealed class CatchEnv : EnvironmentBase, IDisposable
{
    public const int Rows = 8, Columns = 8, CellPixels = 2;
    private const int BallColor = 0, PaddleColor = 1;

    private static readonly EnvSpec TheSpec = new(
        "catch",
        "Catch a falling ball with a paddle, seen as a 16x16 grayscale image.",
        new ObservationLayout()
            .Image("board", Rows * CellPixels, Columns * CellPixels, 1, "the board: ball 255, paddle 160, background 0; row 0 at the top")
            .Build(),
        ActionSpace.Discrete("left", "stay", "right"),
        Rows - 1);

    private readonly TileRenderer renderer = new(Rows, Columns, CellPixels, [new SKColor(255, 255, 255), new SKColor(160, 160, 160)], SKColors.Black, grayscale: true);

    public override EnvSpec Spec => TheSpec;

    public (int Row, int Column) Ball { get; private set; }

    public int Paddle { get; private set; }

    protected override void ResetState(EnvRandom random)
    {
        Ball = (0, random.Next(Columns));
        Paddle = Columns / 2;
    }

    protected override (float Reward, bool Terminated) Advance(ActionValue action)
    {
        Paddle = Math.Clamp(Paddle + action.Discrete![0] - 1, 0, Columns - 1);
        Ball = (Ball.Row + 1, Ball.Column);
        if (Ball.Row < Rows - 1) return (0f, false);
        return (Ball.Column == Paddle ? 1f : -1f, true);
    }

    protected override Observation Observe()
    {
        // When the ball lands on the paddle's cell the ball is drawn last, on top.
        ReadOnlySpan<(int, int, int)> pieces = [(Rows - 1, Paddle, PaddleColor), (Ball.Row, Ball.Column, BallColor)];
        return new Observation(Image: renderer.Render(null, 0, 0, pieces));
    }

    public void Dispose() => renderer.Dispose();
}

/// <summary>Moves the paddle toward the ball's column.</summary>
public sealed class CatchExpert : ExpertPolicy<CatchEnv>
{
    protected override ActionValue Act(CatchEnv env) => ActionValue.OfDiscrete(Math.Sign(env.Ball.Column - env.Paddle) + 1);
}
