using Generalist.Service.Kernel;
using Generalist.Service.Registry;
using Generalist.Service.Scheduling;
using Generalist.Service.Telemetry;
using Microsoft.Extensions.Logging;

namespace Generalist.Service.Jobs;

/// <summary>Where evaluations and studies differ in <see cref="QueuedJobs{TRecord, TProgress}"/>.</summary>
/// <param name="Name">"evaluation" or "study": the span's name and its first tag (the job's name).</param>
/// <param name="SetState">The registry's transition of this kind: (name, state, reason, result JSON) to the new row.</param>
/// <param name="SaveProgress">The registry's progress columns: (name, stage or task, done, total).</param>
/// <param name="Describe">A progress report as (stage or task, done, total, message).</param>
/// <param name="Tag">The span's second tag, from the running job's row.</param>
/// <param name="Work">Runs the job; returns the result JSON to store.</param>
/// <param name="InterruptedReason">Why the job ended when the service stopped during it.</param>
/// <param name="LogEnded">The log line of its end: (logger, name, state).</param>
internal sealed record JobKind<TRecord, TProgress>(
    string Name,
    Func<string, JobState, string?, string?, TRecord> SetState,
    Action<string, string, int, int> SaveProgress,
    Func<TProgress, (string Stage, int Done, int Total, string? Message)> Describe,
    Func<TRecord, KeyValuePair<string, string>> Tag,
    Func<TRecord, IProgress<TProgress>, CancellationToken, Task<string>> Work,
    string InterruptedReason,
    Action<ILogger, string, string> LogEnded);

/// <summary>
/// The life evaluations and studies share. A create holds a queue slot while the registry row is
/// inserted, so a full queue refuses before anything is stored. The execution marks the job
/// running, streams every progress report (stored at most once a second), runs the work to an
/// outcome (<see cref="JobOutcome"/>), stores the end and ends every Watch with it.
/// </summary>
internal sealed class QueuedJobs<TRecord, TProgress>(
    JobKind<TRecord, TProgress> kind,
    JobScheduler scheduler,
    EventHub<JobEvent<TRecord>> hub,
    TimeProvider clock,
    ILogger log) where TRecord : IJobRecord where TProgress : class
{
    /// <summary>Inserts the row (a taken name throws <see cref="DuplicateNameException"/>) and queues the job under <paramref name="key"/>.</summary>
    public TRecord Enqueue(string key, Func<TRecord> insert)
    {
        using var slot = scheduler.TryReserve() ?? throw new QueueFullException($"the job queue is full ({scheduler.Capacity} waiting); retry later");
        var record = insert();
        slot.Commit(key, ct => ExecuteAsync(record.Name, ct));
        return record;
    }

    private async Task ExecuteAsync(string name, CancellationToken ct)
    {
        var record = kind.SetState(name, JobState.Running, "started", null);
        hub.Publish(name, StateEvent(record));
        using var activity = GeneralistTelemetry.Activities.StartActivity(kind.Name);
        activity?.SetTag(kind.Name, name);
        var tag = kind.Tag(record);
        activity?.SetTag(tag.Key, tag.Value);
        var progress = new ThrottledProgress<TProgress>(clock, p =>
        {
            var (stage, done, total, _) = kind.Describe(p);
            kind.SaveProgress(name, stage, done, total);
        }, p =>
        {
            if (!hub.HasSubscribers(name)) return;
            var (stage, done, total, message) = kind.Describe(p);
            hub.Publish(name, new JobProgress<TRecord>(name, Now(), stage, done, total, message));
        });
        var (state, reason, resultJson) = await JobOutcome.RunAsync(() => kind.Work(record, progress, ct), kind.InterruptedReason, activity, ct);
        progress.Flush();
        var final = kind.SetState(name, state, reason, resultJson);
        kind.LogEnded(log, name, JobStates.ToText(state));
        hub.Complete(name, StateEvent(final));
    }

    private JobStateChange<TRecord> StateEvent(TRecord r) => new(r.Name, Now(), r.State, r.FailureReason ?? "");

    // Timed to the millisecond, like the rows of evaluations and studies.
    private DateTimeOffset Now() => DateTimeOffset.FromUnixTimeMilliseconds(clock.GetUtcNow().ToUnixTimeMilliseconds());
}
