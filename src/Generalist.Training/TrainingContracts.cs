using Generalist.RunFormat;

namespace Generalist.Training;

/// <summary>Events a training run reports while it runs; the service streams them to WatchRun.</summary>
public abstract record TrainingEvent(long Step);

/// <summary>
/// One optimizer step finished. Times are seconds; Mfu is a fraction of the machine's matmul peak;
/// SyncSeconds is the gradient all-reduce across ranks (0 on one process).
/// </summary>
public sealed record StepCompleted(
    long Step,
    long TotalSteps,
    double Loss,
    IReadOnlyDictionary<string, double> TaskLoss,
    double LearningRate,
    double GradNorm,
    long TokensSeen,
    double TokensPerSecond,
    double Mfu,
    double DataSeconds,
    double ForwardSeconds,
    double BackwardSeconds,
    double OptimizerSeconds,
    bool Skipped,
    double SyncSeconds = 0) : TrainingEvent(Step);

/// <summary>Held-out loss per task, every eval interval.</summary>
public sealed record HeldOutEvaluated(long Step, IReadOnlyDictionary<string, double> TaskLoss) : TrainingEvent(Step);

/// <summary>
/// A checkpoint directory was completely written (renamed into place). WriteSeconds: how long the
/// write took, when the reporter timed it (a follower that finds checkpoints on disk cannot).
/// </summary>
public sealed record CheckpointWritten(long Step, string Path, double? WriteSeconds = null) : TrainingEvent(Step);

/// <summary>How a run ended.</summary>
public enum TrainingOutcome { Completed, Cancelled, Failed }

public sealed record TrainingResult(
    TrainingOutcome Outcome,
    long FinalStep,
    string? LastCheckpoint,
    string? FailureReason);

/// <summary>
/// Runs one training job described by a run config into a run directory (metrics.jsonl,
/// checkpoints/step-N/…). Cancellation stops at the next step boundary and writes a checkpoint.
/// With resume, continues exactly from the newest valid checkpoint in the run directory.
/// </summary>
public interface ITrainer
{
    Task<TrainingResult> RunAsync(
        RunConfig config,
        string runDirectory,
        bool resume,
        IProgress<TrainingEvent>? progress,
        CancellationToken cancellationToken);
}
