using Generalist.Service.Api.V1;

namespace Generalist.Service.Registry;

/// <summary>A run as the registry stores it. Times are Unix milliseconds (UTC).</summary>
public sealed record RunRecord(
    long Sequence,
    string Name,
    JobState State,
    string ConfigJson,
    long Step,
    long TotalSteps,
    double? Loss,
    double TokensPerSecond,
    long TokensSeen,
    string? LastCheckpoint,
    string? FailureReason,
    int Attempts,
    long CreateTime,
    long UpdateTime,
    long? StartTime,
    long? EndTime);

public sealed record CheckpointRecord(string Run, long Step, string Path, long CreateTime);

public sealed record StateRecord(string Kind, string Name, JobState State, string? Reason, long Time);

public sealed record EvaluationRecord(
    long Sequence,
    string Name,
    JobState State,
    string Checkpoint,
    string Suite,
    int Episodes,
    long Seed,
    string? ResultJson,
    string? FailureReason,
    string? ProgressTask,
    int ProgressDone,
    int ProgressTotal,
    long CreateTime,
    long UpdateTime);

public sealed record StudyRecord(
    long Sequence,
    string Name,
    string Kind,
    JobState State,
    string ConfigPath,
    string OutputDirectory,
    string? ResultJson,
    string? FailureReason,
    string? ProgressStage,
    int ProgressDone,
    int ProgressTotal,
    long CreateTime,
    long UpdateTime);

public static class JobStates
{
    /// <summary>States in which nothing happens until a client acts (watch streams end here).</summary>
    public static bool IsResting(JobState s) =>
        s is JobState.Succeeded or JobState.Failed or JobState.Cancelled or JobState.Interrupted;

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

    public static JobState FromText(string s) => s switch
    {
        "queued" => JobState.Queued,
        "running" => JobState.Running,
        "cancelling" => JobState.Cancelling,
        "succeeded" => JobState.Succeeded,
        "failed" => JobState.Failed,
        "cancelled" => JobState.Cancelled,
        "interrupted" => JobState.Interrupted,
        _ => throw new InvalidDataException($"registry: unknown state '{s}'"),
    };
}

/// <summary>A second resource with the same name; becomes ALREADY_EXISTS.</summary>
public sealed class DuplicateNameException(string kind, string name) : Exception($"{kind} '{name}' already exists")
{
    public string Kind { get; } = kind;
    public string Name { get; } = name;
}
