using Generalist.Datasets.Cache;
using Generalist.Episodes;

namespace Generalist.Datasets;

/// <summary>How task data is built.</summary>
/// <param name="CacheDirectory">Root of the package and shard cache (GENERALIST_DATA; see <see cref="PackageCache.DefaultRoot"/>).</param>
/// <param name="EpisodesPerTask">Expert episodes generated per control environment for training (held out: a tenth, at least 2).</param>
/// <param name="Seed">Base seed of every generated episode (environment rollouts, regression sequences).</param>
/// <param name="ActionNoise">Probability in [0, 1) that a step of a control task's training
/// episodes executes a perturbed action instead of the expert's (DART-style noise injection,
/// envs/DATA.md "Action noise"); null means each task's default
/// (<see cref="ControlTrajectories.DefaultActionNoise"/>). Sokoban is never perturbed: its expert
/// replays a fixed solution. Held-out episodes are always the plain expert's.</param>
/// <param name="MinTimestepsPerTask">A control task's training shard holds at least this many
/// timesteps: after <paramref name="EpisodesPerTask"/> episodes, collection goes on (seeds
/// continue) until it does. Tasks with short episodes (catch: 7 steps, gridnav: ~5) otherwise get
/// a few hundred states from the same episode count that gives cartpole 32,000, and their
/// specialists memorise them instead of learning the task (measured in envs/DATA.md). 0 turns it off.</param>
public sealed record DataOptions(string CacheDirectory, int EpisodesPerTask, long Seed, double? ActionNoise = null,
    int MinTimestepsPerTask = DataOptions.DefaultMinTimestepsPerTask, Sets.IclRegressionOptions? IclRegression = null)
{
    public const int DefaultEpisodesPerTask = 100;
    public const int MaxEpisodesPerTask = 1_000_000;
    public const int DefaultMinTimestepsPerTask = 16_384;
    public const int MaxMinTimestepsPerTask = 10_000_000;

    /// <summary>The most training episodes a task can hold (every episode at least one step): seeds beyond are never used.</summary>
    public long MaxTrainingEpisodes => Math.Max(EpisodesPerTask, MinTimestepsPerTask);

    public static DataOptions Default => new(PackageCache.DefaultRoot(), DefaultEpisodesPerTask, 0);

    /// <summary>Held-out expert episodes per control environment.</summary>
    public int HeldOutEpisodes => Math.Max(2, EpisodesPerTask / 10);

    public void Validate()
    {
        if (string.IsNullOrWhiteSpace(CacheDirectory)) throw new ArgumentException("data cache directory must not be empty (set GENERALIST_DATA or pass a directory)");
        if (EpisodesPerTask is < 1 or > MaxEpisodesPerTask)
            throw new ArgumentException($"episodes per task must be in [1, {MaxEpisodesPerTask}] (got {EpisodesPerTask})");
        if (MinTimestepsPerTask is < 0 or > MaxMinTimestepsPerTask)
            throw new ArgumentException($"min timesteps per task must be in [0, {MaxMinTimestepsPerTask}] (got {MinTimestepsPerTask})");
        if (ActionNoise is { } p && !(p >= 0 && p < 1))
            throw new ArgumentException($"action noise must be in [0, 1) (got {p})");
        IclRegression?.Validate();
    }
}

/// <summary>A task's data: training and held-out episodes that never overlap; EnvName is set for control tasks.</summary>
public sealed record TaskData(string Name, TaskFamily Family, IEpisodeSource Train, IEpisodeSource HeldOut, string? EnvName);

/// <summary>What a task is and where its data comes from.</summary>
public sealed record TaskDescription(string Name, TaskFamily Family, string Description, string Source);

/// <summary>Progress of loading or building one task: a stage message and, when known, done of total.</summary>
public sealed record DataProgress(string Task, string Message, long Done = 0, long Total = 0);
