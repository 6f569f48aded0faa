namespace Generalist.Service.Registry;

/// <summary>What runs, evaluations and studies have in common: a name, a state and its reason, times (Unix milliseconds, UTC).</summary>
public interface IJobRecord
{
    string Name { get; }
    JobState State { get; }
    string? FailureReason { get; }
    long CreateTime { get; }
    long UpdateTime { get; }
}

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
    long? EndTime) : IJobRecord;

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
    long UpdateTime) : IJobRecord;

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
    long UpdateTime) : IJobRecord;
