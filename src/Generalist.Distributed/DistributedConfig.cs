using System.Text.Json.Serialization;

namespace Generalist.Distributed;

/// <summary>
/// The run config's "distributed" section. The world size and rank are NOT configured here: they
/// come from the launcher's environment (<see cref="MpiEnvironment"/>), so one config file runs
/// unchanged under 1 process, mpirun -np N or srun.
/// </summary>
public sealed record DistributedConfig
{
    public const string Mean = "mean";
    public const string TrimmedMean = "trimmed_mean";
    public const string Median = "median";
    public const string CenteredClip = "centered_clip";
    public static readonly IReadOnlyList<string> AggregationRules = [Mean, TrimmedMean, Median, CenteredClip];
    public static readonly IReadOnlyList<string> Backends = ["auto", "mpi", "nccl", "local"];

    /// <summary>
    /// "auto": a world of one runs without MPI, a CPU run uses Open MPI, a CUDA run NCCL (with MPI
    /// for the start-up exchange). "mpi", "nccl" or "local" force one.
    /// </summary>
    [JsonPropertyName("backend")] public string Backend { get; init; } = "auto";

    /// <summary>How gradients of the ranks are combined: mean (plain data parallel), trimmed_mean, median or centered_clip.</summary>
    [JsonPropertyName("aggregation")] public string Aggregation { get; init; } = Mean;

    /// <summary>trimmed_mean: drop floor(fraction * world) highest and lowest values per coordinate; in [0, 0.5).</summary>
    [JsonPropertyName("trim_fraction")] public double TrimFraction { get; init; } = 0.25;

    /// <summary>
    /// centered_clip: the clipping radius tau in gradient-norm units; 0 (default) = adaptive, the
    /// median over ranks of each rank's distance to the center (no gradient scale to guess).
    /// </summary>
    [JsonPropertyName("clip_radius")] public double ClipRadius { get; init; } = 0;

    /// <summary>centered_clip: clipping iterations per step (the paper uses 1 with its momentum start; 3 costs little and converges further).</summary>
    [JsonPropertyName("clip_iterations")] public int ClipIterations { get; init; } = 3;

    /// <summary>
    /// Every collective must finish within this many seconds, or the watchdog stops the whole job
    /// naming the late rank. It must exceed the slowest rank's step and rank 0's checkpoint write.
    /// </summary>
    [JsonPropertyName("timeout_seconds")] public double TimeoutSeconds { get; init; } = 300;

    /// <summary>Gradient bucket size for the all-reduce (PyTorch DDP's default is 25 MB).</summary>
    [JsonPropertyName("bucket_mb")] public double BucketMb { get; init; } = 25;

    /// <summary>
    /// How the service starts this run when ranks &gt; 1: a command template with {ranks} (the rank
    /// count) and {command} (the `generalist train ...` command line), e.g.
    /// "mpirun -np {ranks} --hostfile hosts {command}" or "srun --ntasks={ranks} {command}".
    /// Null (the default) = the service's own Service:Launcher; a service accepts a per-run
    /// launcher only when Service:AllowRunLauncher is set (it runs a program of the client's choice).
    /// </summary>
    [JsonPropertyName("launcher")] public string? Launcher { get; init; }

    /// <summary>Ranks the service launches this run with (1 = a plain process, no launcher).</summary>
    [JsonPropertyName("ranks")] public int Ranks { get; init; } = 1;

    /// <summary>Derived from bucket_mb; not a config field (and not written into config JSON).</summary>
    [JsonIgnore] public long BucketBytes => (long)(BucketMb * (1 << 20));

    /// <summary>Every problem as (field path, message with the allowed range).</summary>
    public IEnumerable<(string Field, string Message)> Validate(string prefix = "distributed.")
    {
        if (!Backends.Contains(Backend)) yield return (prefix + "backend", $"must be one of {string.Join(", ", Backends)} (got '{Backend}')");
        if (!AggregationRules.Contains(Aggregation))
            yield return (prefix + "aggregation", $"must be one of {string.Join(", ", AggregationRules)} (got '{Aggregation}')");
        if (!(TrimFraction >= 0 && TrimFraction < 0.5)) yield return (prefix + "trim_fraction", $"must be in [0, 0.5) (got {TrimFraction})");
        if (!(ClipRadius >= 0 && double.IsFinite(ClipRadius))) yield return (prefix + "clip_radius", $"must be a finite number >= 0, 0 = adaptive (got {ClipRadius})");
        if (ClipIterations is < 1 or > 100) yield return (prefix + "clip_iterations", $"must be in [1, 100] (got {ClipIterations})");
        if (!(TimeoutSeconds >= 1 && TimeoutSeconds <= 86400)) yield return (prefix + "timeout_seconds", $"must be in [1, 86400] (got {TimeoutSeconds})");
        if (!(BucketMb >= 0.001 && BucketMb <= 4096)) yield return (prefix + "bucket_mb", $"must be in [0.001, 4096] (got {BucketMb})");
        if (Launcher is not null)
            foreach (var problem in MpiLauncher.Problems(Launcher)) yield return (prefix + "launcher", problem);
        if (Ranks is < 1 or > 65536) yield return (prefix + "ranks", $"must be in [1, 65536] (got {Ranks})");
    }
}
