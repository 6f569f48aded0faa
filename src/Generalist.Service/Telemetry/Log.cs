using Microsoft.Extensions.Logging;

namespace Generalist.Service.Telemetry;

/// <summary>Every log line of the service, source-generated ([LoggerMessage]): no boxing, no parsing at run time.</summary>
internal static partial class Log
{
    [LoggerMessage(1, LogLevel.Information, "Run {Run} queued ({TotalSteps} steps)")]
    public static partial void RunQueued(ILogger logger, string run, long totalSteps);

    [LoggerMessage(2, LogLevel.Information, "Run {Run} started (attempt {Attempt}, resume {Resume})")]
    public static partial void RunStarted(ILogger logger, string run, int attempt, bool resume);

    [LoggerMessage(3, LogLevel.Information, "Run {Run} ended {State} at step {Step}")]
    public static partial void RunEnded(ILogger logger, string run, string state, long step);

    [LoggerMessage(4, LogLevel.Error, "Run {Run} failed: {Reason}")]
    public static partial void RunFailed(ILogger logger, string run, string reason, Exception? exception);

    [LoggerMessage(5, LogLevel.Information, "Run {Run} wrote checkpoint {Path} at step {Step}")]
    public static partial void CheckpointRecorded(ILogger logger, string run, string path, long step);

    [LoggerMessage(6, LogLevel.Warning, "{Count} entries were running when the service last stopped; marked interrupted: {Names}")]
    public static partial void MarkedInterrupted(ILogger logger, int count, string names);

    [LoggerMessage(7, LogLevel.Information, "Evaluation {Evaluation} ended {State}")]
    public static partial void EvaluationEnded(ILogger logger, string evaluation, string state);

    [LoggerMessage(8, LogLevel.Information, "Study {Study} ended {State}")]
    public static partial void StudyEnded(ILogger logger, string study, string state);

    [LoggerMessage(9, LogLevel.Error, "Job {Job} crashed")]
    public static partial void JobCrashed(ILogger logger, string job, Exception exception);

    [LoggerMessage(10, LogLevel.Warning, "Shutdown grace period ended with {Count} jobs still stopping")]
    public static partial void ShutdownGraceExceeded(ILogger logger, int count);

    [LoggerMessage(11, LogLevel.Warning, "Rejected call to {Method}: {Reason}")]
    public static partial void CallRejected(ILogger logger, string method, string reason);

    [LoggerMessage(12, LogLevel.Information, "Re-queued {Count} runs that were queued when the service last stopped")]
    public static partial void Requeued(ILogger logger, int count);

    [LoggerMessage(13, LogLevel.Warning, "Checkpoint path {Path} of run {Run} is outside the data root; not recorded")]
    public static partial void CheckpointOutsideRoot(ILogger logger, string run, string path);

    [LoggerMessage(14, LogLevel.Error, "{Method}: the data root could not be written: {Error}")]
    public static partial void StorageFailed(ILogger logger, string method, string error);

    [LoggerMessage(15, LogLevel.Error, "{Method} failed: {Error}")]
    public static partial void HandlerFailed(ILogger logger, string method, string error, Exception exception);

    [LoggerMessage(40, LogLevel.Information, "Run {Run} launched on {Ranks} ranks: {CommandLine} (launcher pid {Pid})")]
    public static partial void Launched(ILogger logger, string run, int ranks, string commandLine, int pid);
}
