namespace Generalist.Episodes;

/// <summary>An image as 8-bit pixels in row-major (height, width, channels) order; channels is 1 or 3.</summary>
public sealed record ImageData(int Height, int Width, int Channels, byte[] Pixels)
{
    public byte this[int y, int x, int c] => Pixels[(y * Width + x) * Channels + c];
}

/// <summary>
/// What the agent sees at one timestep. Every field is optional. Tokenized in this fixed order:
/// text, then image patches, then discrete values, then continuous values. An environment whose
/// observation has several named fields flattens them into these arrays in the order its spec
/// documents (see envs/README.md).
/// </summary>
public sealed record Observation(
    string? Text = null,
    ImageData? Image = null,
    int[]? Discrete = null,
    float[]? Continuous = null);

/// <summary>The action taken: exactly one of discrete values in [0, 1024) or continuous values in [-1, 1].</summary>
public sealed record ActionValue(int[]? Discrete = null, float[]? Continuous = null)
{
    public static ActionValue OfDiscrete(params int[] values) => new(Discrete: values);
    public static ActionValue OfContinuous(params float[] values) => new(Continuous: values);
}

/// <summary>
/// One timestep: observation tokens, then (only when an action exists) the separator and the
/// action tokens. Reward is kept for evaluation and never tokenized. A timestep without an action
/// is how non-control samples are written: a text document is one timestep with text; a captioned
/// image is an image timestep followed by a text timestep.
/// <see cref="ActionScored"/> says whether the action tokens carry loss: it is false when the
/// recorded action is not the one to imitate, e.g. a perturbation executed instead of the expert's
/// choice while collecting data (envs/DATA.md, "Action noise"). The action is still tokenized as
/// history, because it is the action that really led to the next observation.
/// </summary>
public sealed record Timestep(Observation Observation, ActionValue? Action = null, float Reward = 0f, bool ActionScored = true);

/// <summary>A sequence of timesteps from one task; the unit the data sets, shards and the sequence builder share.</summary>
public sealed record Episode(string Task, IReadOnlyList<Timestep> Timesteps)
{
    public float Return => Timesteps.Sum(t => t.Reward);
}
