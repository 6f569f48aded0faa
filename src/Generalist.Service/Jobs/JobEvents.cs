using Generalist.Service.Registry;
using Generalist.Training;

namespace Generalist.Service.Jobs;

/// <summary>
/// One thing a Watch stream reports about a job whose registry record is <typeparamref name="TRecord"/>
/// (runs, evaluations, studies: one EventHub each); the API turns it into its event message.
/// </summary>
public abstract record JobEvent<TRecord>(string Job, DateTimeOffset Time) where TRecord : IJobRecord;

/// <summary>The job as the registry has it when a Watch starts: always the first event, timed at its last update.</summary>
public sealed record JobSnapshot<TRecord>(TRecord Record)
    : JobEvent<TRecord>(Record.Name, DateTimeOffset.FromUnixTimeMilliseconds(Record.UpdateTime)) where TRecord : IJobRecord;

/// <summary>A transition and why.</summary>
public sealed record JobStateChange<TRecord>(string Job, DateTimeOffset Time, JobState State, string Reason)
    : JobEvent<TRecord>(Job, Time) where TRecord : IJobRecord;

/// <summary>How far an evaluation (Stage: the task) or a study (Stage: its stage, with a message) has come.</summary>
public sealed record JobProgress<TRecord>(string Job, DateTimeOffset Time, string Stage, int Done, int Total, string? Message)
    : JobEvent<TRecord>(Job, Time) where TRecord : IJobRecord;

/// <summary>A run's step, as the trainer reported it.</summary>
public sealed record RunStep(string Job, DateTimeOffset Time, StepCompleted Step) : JobEvent<RunRecord>(Job, Time);

/// <summary>A run's held-out losses of one evaluation interval.</summary>
public sealed record RunHeldOut(string Job, DateTimeOffset Time, HeldOutEvaluated HeldOut) : JobEvent<RunRecord>(Job, Time);

/// <summary>A complete checkpoint of a run, recorded in the registry (path relative to the data root).</summary>
public sealed record RunCheckpoint(string Job, DateTimeOffset Time, long Step, string Path) : JobEvent<RunRecord>(Job, Time);

public static class JobEvents
{
    /// <summary>A Watch's first event, and whether the job already rests (then the stream ends after it).</summary>
    public static (JobEvent<TRecord> Event, bool Final) Snapshot<TRecord>(TRecord record) where TRecord : IJobRecord =>
        (new JobSnapshot<TRecord>(record), JobStates.IsResting(record.State));
}
