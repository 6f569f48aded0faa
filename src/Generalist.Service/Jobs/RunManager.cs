using System.Collections.Concurrent;
using System.Diagnostics;
using Generalist.Service.Kernel;
using Generalist.Service.Registry;
using Generalist.Service.Scheduling;
using Generalist.Service.Telemetry;
using Generalist.Training;
using Generalist.Training.Ownership;
using Microsoft.Extensions.Logging;
using Generalist.RunFormat;

namespace Generalist.Service.Jobs;

/// <summary>
/// The life of a run: created (queued), executed by the scheduler through <see cref="ITrainer"/>,
/// cancelled at a step boundary, interrupted by a stop, resumed from its newest checkpoint.
/// Every transition goes to the registry first, then to Watch streams.
/// </summary>
/// <param name="trainer">Trains runs in this process (Hosting registers it); without one, only launched runs (distributed.ranks &gt; 1) can be created.</param>
public sealed class RunManager(
    RunRegistry registry,
    JobScheduler scheduler,
    EventHub<JobEvent<RunRecord>> hub,
    GeneralistTelemetry telemetry,
    DataLayout layout,
    LaunchedTrainer launched,
    TimeProvider clock,
    ILogger<RunManager> log,
    ITrainer? trainer = null)
{
    public const string InterruptedReason = "the service stopped while the run was executing; ResumeRun continues it from its last checkpoint";

    // Runs whose cancellation a client asked for (as opposed to a service stop, which interrupts).
    private readonly ConcurrentDictionary<string, bool> _cancelRequested = new(StringComparer.Ordinal);

    public static string Key(string run) => "run/" + run;

    /// <summary>Runs with distributed.ranks &gt; 1 are launched as a job of `generalist train` processes (<see cref="LaunchedTrainer"/>).</summary>
    public static bool IsLaunched(RunConfig config) => config.Distributed.Ranks > 1;

    public RunRecord Create(RunConfig config)
    {
        RecordPending();
        if (IsLaunched(config)) RequireLauncher(config);
        else RequireTrainer();
        using var slot = scheduler.TryReserve() ?? throw QueueFull();
        // A taken name throws DuplicateNameException (ALREADY_EXISTS) and gives the slot back.
        var record = registry.InsertRun(config.Name, config.ToJson(), config.Steps);
        slot.Commit(Key(config.Name), ct => ExecuteAsync(config.Name, resume: false, ct));
        Log.RunQueued(log, config.Name, config.Steps);
        return record;
    }

    // Sinks of executing runs: Get and List show their newest step, which the registry row may
    // not have yet (it is refreshed at most once per second to keep steps cheap).
    private readonly ConcurrentDictionary<string, RunProgressSink> _live = new(StringComparer.Ordinal);

    public RunRecord Get(string name) => WithLiveProgress(registry.GetRun(name) ?? throw new NotFoundException("run", name));

    public RunRecord WithLiveProgress(RunRecord record)
    {
        // An end the registry could not take (a full disk) is the truth until it can.
        if (_unrecorded.TryGetValue(record.Name, out var ended)) return ended;
        if (!_live.TryGetValue(record.Name, out var sink) || sink.Latest is not { } s || s.Step <= record.Step) return record;
        return record with { Step = s.Step, Loss = double.IsFinite(s.Loss) ? s.Loss : record.Loss, TokensPerSecond = s.TokensPerSecond, TokensSeen = s.TokensSeen };
    }

    public RunRecord Cancel(string name)
    {
        RecordPending();
        var run = Get(name);
        switch (run.State)
        {
            case JobState.Queued when scheduler.TryRemoveQueued(Key(name)):
                var cancelled = registry.SetRunState(name, JobState.Cancelled, "cancelled while queued", ended: true);
                telemetry.RunEnded(JobState.Cancelled);
                hub.Complete(name, StateEvent(cancelled));
                return cancelled;
            case JobState.Queued or JobState.Running:
                // Running (or just taken from the queue): stop at the next step boundary.
                _cancelRequested[name] = true;
                var cancelling = registry.SetRunState(name, JobState.Cancelling, "cancel requested");
                hub.Publish(name, StateEvent(cancelling));
                scheduler.TryCancelRunning(Key(name));
                return cancelling;
            case JobState.Cancelling:
                return run;
            default:
                throw new PreconditionFailedException($"runs/{name}", "STATE", $"run '{name}' is {JobStates.ToText(run.State)}; only queued or running runs can be cancelled");
        }
    }

    public RunRecord Resume(string name)
    {
        RecordPending();
        var run = Get(name);
        if (run.State is not (JobState.Interrupted or JobState.Cancelled or JobState.Failed))
            throw new PreconditionFailedException($"runs/{name}", "STATE",
                $"run '{name}' is {JobStates.ToText(run.State)}; only interrupted, cancelled or failed runs can be resumed");
        var config = RunConfig.Parse(run.ConfigJson, $"registry config of run '{name}'");
        if (IsLaunched(config)) RequireLauncher(config);
        else RequireTrainer();
        RequireNoLiveTrainer(name);
        using var slot = scheduler.TryReserve() ?? throw QueueFull();
        var queued = registry.SetRunState(name, JobState.Queued, "resume requested");
        slot.Commit(Key(name), ct => ExecuteAsync(name, resume: true, ct));
        return queued;
    }

    /// <summary>
    /// At start: a run whose end the last service could not write to the registry (a full disk)
    /// gets the end it wrote to its outcome file; other running rows become interrupted; queued
    /// rows go back into the queue.
    /// </summary>
    public void RecoverAfterRestart()
    {
        foreach (var run in registry.RunsInState(JobState.Running).Concat(registry.RunsInState(JobState.Cancelling)))
            if (RunOutcomeFile.Read(layout.RunDirectory(run.Name)) is { } outcome)
            {
                registry.SetRunState(run.Name, outcome.State, outcome.Reason, ended: true);
                log.LogWarning("run {Run} ended {State} under the last service, which could not record it in the registry; recorded now: {Reason}",
                    run.Name, JobStates.ToText(outcome.State), outcome.Reason);
            }
        var touched = registry.MarkInterruptedAfterRestart(InterruptedReason);
        if (touched.Count > 0) Log.MarkedInterrupted(log, touched.Count, string.Join(", ", touched.Select(t => $"{t.Kind}/{t.Name}")));
        var queued = registry.RunsInState(JobState.Queued);
        foreach (var run in queued)
        {
            var resume = run.Attempts > 0;
            scheduler.EnqueueRecovered(Key(run.Name), ct => ExecuteAsync(run.Name, resume, ct));
        }
        if (queued.Count > 0) Log.Requeued(log, queued.Count);
    }

    private async Task ExecuteAsync(string name, bool resume, CancellationToken ct)
    {
        var record = registry.GetRun(name)!;
        if (ct.IsCancellationRequested)
        {
            Finish(name, TrainingOutcome.Cancelled, null, 0);
            return;
        }
        var config = RunConfig.Parse(record.ConfigJson, $"registry config of run '{name}'");
        var runDirectory = layout.RunDirectory(name);
        try
        {
            Directory.CreateDirectory(runDirectory);
            RunOutcomeFile.Reserve(runDirectory);
            record = registry.SetRunState(name, JobState.Running, resume ? "resumed" : "started", started: true);
        }
        catch (Exception e) when (IsStorageFailure(e))
        {
            // Never left queued (or running) with nothing executing it: the run fails, saying why.
            Finish(name, TrainingOutcome.Failed, $"the run could not start: {StorageErrors.Describe(e)}", record.Step);
            return;
        }
        hub.Publish(name, StateEvent(record));
        Log.RunStarted(log, name, record.Attempts, resume);

        using var activity = GeneralistTelemetry.Activities.StartActivity("run", ActivityKind.Internal);
        activity?.SetTag("run", name);
        activity?.SetTag("run.resume", resume);
        activity?.SetTag("run.attempt", record.Attempts);
        var sink = new RunProgressSink(name, registry, hub, telemetry, layout, clock, log);
        _live[name] = sink;
        telemetry.RunStarted(name, resume ? record.TokensSeen : 0);
        TrainingResult? result = null;
        string? failure = null;
        try
        {
            if (IsLaunched(config)) result = await launched.RunAsync(config, runDirectory, resume, sink, ct);
            else if (trainer is null) throw new InvalidOperationException("this build of the service has no trainer registered");
            else result = await trainer.RunAsync(config, runDirectory, resume, sink, ct);
        }
        catch (OperationCanceledException) when (ct.IsCancellationRequested)
        {
            result = new TrainingResult(TrainingOutcome.Cancelled, sink.LastStep, null, null);
        }
        catch (Exception e)
        {
            failure = IsStorageFailure(e) ? StorageErrors.Describe(e) : e.Message;
            Log.RunFailed(log, name, e.Message, e);
        }
        finally
        {
            telemetry.RunStopped(name);
            TryStorage(sink.Flush);
            _live.TryRemove(name, out _);
        }
        TryStorage(() =>
        {
            if (result?.LastCheckpoint is { } last && result.FinalStep > 0 && !registry.ListCheckpoints(name).Any(c => c.Step == result.FinalStep))
                sink.Report(new CheckpointWritten(result.FinalStep, last));
        });
        var outcome = failure is not null ? TrainingOutcome.Failed : result!.Outcome;
        var final = Finish(name, outcome, failure ?? result?.FailureReason, result?.FinalStep ?? sink.LastStep);
        activity?.SetTag("run.state", JobStates.ToText(final.State));
        if (final.State == JobState.Failed) activity?.SetStatus(ActivityStatusCode.Error, final.FailureReason);
    }

    private RunRecord Finish(string name, TrainingOutcome outcome, string? failure, long step)
    {
        var userCancelled = _cancelRequested.TryRemove(name, out _);
        var (state, reason) = outcome switch
        {
            TrainingOutcome.Completed => (JobState.Succeeded, "completed"),
            TrainingOutcome.Cancelled when userCancelled => (JobState.Cancelled, "cancelled"),
            TrainingOutcome.Cancelled => (JobState.Interrupted, InterruptedReason),
            _ => (JobState.Failed, failure ?? "the trainer reported a failure without a reason"),
        };
        RunRecord final;
        try
        {
            final = registry.SetRunState(name, state, reason, ended: true);
        }
        catch (Exception e) when (IsStorageFailure(e))
        {
            // The registry cannot take the end (SQLite needs free space for any write): show it from
            // memory, keep it in the run's reserved outcome file for the next start, retry later.
            var written = RunOutcomeFile.TryWrite(layout.RunDirectory(name), state, reason);
            log.LogError("run {Run} ended {State} but the registry could not record it ({Error}); {Where}", name, JobStates.ToText(state),
                StorageErrors.Describe(e), written ? "kept in its outcome.json for the next start" : "nor could its outcome.json: the next start marks it interrupted");
            final = (registry.GetRun(name) ?? throw new InvalidOperationException($"run '{name}' vanished from the registry")) with { State = state, FailureReason = reason };
            _unrecorded[name] = final;
        }
        telemetry.RunEnded(state);
        Log.RunEnded(log, name, JobStates.ToText(state), step);
        hub.Complete(name, StateEvent(final));
        return final;
    }

    // Ends the registry could not record yet (see Finish), written as soon as it can take them.
    private readonly ConcurrentDictionary<string, RunRecord> _unrecorded = new(StringComparer.Ordinal);

    /// <summary>Writes the ends the registry could not take earlier; the calls that change runs try first.</summary>
    private void RecordPending()
    {
        foreach (var (name, ended) in _unrecorded)
        {
            try
            {
                registry.SetRunState(name, ended.State, ended.FailureReason ?? "", ended: true);
                _unrecorded.TryRemove(name, out _);
            }
            catch (Exception e) when (IsStorageFailure(e))
            {
                return; // still full: the caller's own write will say so
            }
        }
    }

    /// <summary>A write the disk refused (full, read-only), from a file or from SQLite.</summary>
    internal static bool IsStorageFailure(Exception e) =>
        e is IOException or UnauthorizedAccessException || (e is Microsoft.Data.Sqlite.SqliteException s && s.SqliteErrorCode is 8 or 10 or 13 or 14);

    private void TryStorage(Action write)
    {
        try
        {
            write();
        }
        catch (Exception e) when (IsStorageFailure(e))
        {
            log.LogWarning("a registry write at the end of a run failed: {Error}", StorageErrors.Describe(e));
        }
    }

    private void RequireLauncher(RunConfig config)
    {
        try
        {
            launched.TemplateFor(config);
        }
        catch (ConfigException e)
        {
            throw new InvalidRequestException(e.Field, e.Message);
        }
    }

    /// <summary>
    /// A trainer of an earlier service (a launched job that outlived it) may still hold the run
    /// directory: a second one there would interleave its steps and checkpoints with the first's.
    /// </summary>
    private void RequireNoLiveTrainer(string name)
    {
        if (RunDirectoryLock.IsHeld(layout.RunDirectory(name), out var holder))
            throw new PreconditionFailedException($"runs/{name}", "RUN_DIRECTORY_IN_USE",
                $"run '{name}': its run directory is still held by {holder?.Describe() ?? "another process"}; resume it once that process has exited");
    }

    private void RequireTrainer()
    {
        if (trainer is null)
            throw new PreconditionFailedException("trainer", "NOT_INSTALLED", "this build of the service has no trainer (ITrainer) registered");
    }

    private QueueFullException QueueFull() => new(
        $"the job queue is full ({scheduler.Capacity} waiting, {scheduler.RunningCount} running); retry later or raise --queue-capacity");

    public JobStateChange<RunRecord> StateEvent(RunRecord run) => new(run.Name, clock.GetUtcNow(), run.State, run.FailureReason ?? StateReason(run.State));

    private static string StateReason(JobState state) => state switch
    {
        JobState.Queued => "waiting for a free slot",
        JobState.Running => "executing",
        JobState.Cancelling => "stopping at the next step boundary",
        JobState.Succeeded => "completed",
        JobState.Cancelled => "cancelled",
        _ => "",
    };
}
