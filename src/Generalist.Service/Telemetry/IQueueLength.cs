namespace Generalist.Service.Telemetry;

/// <summary>What the queue-length gauge (<see cref="TelemetryNames.QueueLength"/>) reads: the scheduler's waiting jobs.</summary>
public interface IQueueLength
{
    int QueuedCount { get; }
}
