namespace Generalist.Service.Registry;

/// <summary>
/// Where a run, evaluation or study is in its life: queued, running, cancelling (a cancel was
/// asked), then one of the resting states. The registry stores it as <see cref="JobStates.ToText"/>;
/// the API has its own enum (generalist.v1.JobState) and maps to it.
/// </summary>
public enum JobState
{
    Queued,
    Running,
    Cancelling,
    Succeeded,
    Failed,
    Cancelled,
    Interrupted,
}

public static class JobStates
{
    /// <summary>Every state, in the order of their life (and of <see cref="JobState"/>).</summary>
    public static IReadOnlyList<JobState> All { get; } = Enum.GetValues<JobState>();

    private static readonly Dictionary<string, JobState> ByText = All.ToDictionary(ToText, StringComparer.Ordinal);

    /// <summary>States in which nothing happens until a client acts (watch streams end here).</summary>
    public static bool IsResting(JobState s) =>
        s is JobState.Succeeded or JobState.Failed or JobState.Cancelled or JobState.Interrupted;

    /// <summary>The state's lower-case name: how the registry stores it, logs and metrics say it, and the CLI prints and parses it.</summary>
    public static string ToText(JobState s) => s switch
    {
        JobState.Queued => "queued",
        JobState.Running => "running",
        JobState.Cancelling => "cancelling",
        JobState.Succeeded => "succeeded",
        JobState.Failed => "failed",
        JobState.Cancelled => "cancelled",
        JobState.Interrupted => "interrupted",
        _ => throw new ArgumentOutOfRangeException(nameof(s), s, "not a storable state"),
    };

    /// <summary>The state named <paramref name="text"/> (exactly as <see cref="ToText"/> writes it), or null.</summary>
    public static JobState? TryFromText(string text) => ByText.TryGetValue(text, out var s) ? s : null;

    public static JobState FromText(string s) => TryFromText(s) ?? throw new InvalidDataException($"registry: unknown state '{s}'");
}
