using System.Diagnostics;
using Generalist.Service.Kernel;
using Generalist.Service.Registry;
using Generalist.Service.Scheduling;
using Generalist.Service.Telemetry;
using Generalist.Training;
using Microsoft.Extensions.Logging;

namespace Generalist.Service.Jobs;

/// <summary>
/// Receives a run's TrainingEvents on the trainer's thread and turns them into metrics, Watch
/// events and registry rows. It must stay cheap (it runs between optimizer steps): the registry
/// row is refreshed at most once per <see cref="PersistInterval"/>, and Watch events are only made
/// when someone is watching. It never throws into the trainer.
/// </summary>
public sealed class RunProgressSink(
    string run,
    RunRegistry registry,
    EventHub<JobEvent<RunRecord>> hub,
    GeneralistTelemetry telemetry,
    DataLayout layout,
    TimeProvider clock,
    ILogger log) : IProgress<TrainingEvent>
{
    public static readonly TimeSpan PersistInterval = TimeSpan.FromSeconds(1);

    private long _lastPersisted = long.MinValue;
    private StepCompleted? _latest;
    private bool _latestPersisted = true;

    public long LastStep { get; private set; }

    /// <summary>The newest step, ahead of the registry row by at most <see cref="PersistInterval"/>.</summary>
    public StepCompleted? Latest => Volatile.Read(ref _latest);

    public void Report(TrainingEvent value)
    {
        try
        {
            switch (value)
            {
                case StepCompleted step:
                    OnStep(step);
                    break;
                case HeldOutEvaluated heldOut:
                    telemetry.RecordHeldOut(run, heldOut);
                    if (hub.HasSubscribers(run)) hub.Publish(run, new RunHeldOut(run, clock.GetUtcNow(), heldOut));
                    break;
                case CheckpointWritten checkpoint:
                    OnCheckpoint(checkpoint);
                    break;
            }
        }
        catch (Exception e)
        {
            // Telemetry must never stop training; the failure is logged with the run.
            Log.RunFailed(log, run, $"progress handling failed: {e.Message}", e);
        }
    }

    /// <summary>Writes the newest step to the registry if the throttle held it back.</summary>
    public void Flush()
    {
        if (_latest is { } s && !_latestPersisted) Persist(s);
    }

    private void OnStep(StepCompleted step)
    {
        LastStep = step.Step;
        telemetry.RecordStep(run, step);
        if (hub.HasSubscribers(run)) hub.Publish(run, new RunStep(run, clock.GetUtcNow(), step));
        Volatile.Write(ref _latest, step);
        _latestPersisted = false;
        var now = clock.GetTimestamp();
        if (step.Step >= step.TotalSteps || _lastPersisted == long.MinValue || clock.GetElapsedTime(_lastPersisted, now) >= PersistInterval)
        {
            Persist(step);
            _lastPersisted = now;
        }
    }

    private void Persist(StepCompleted step)
    {
        registry.UpdateRunProgress(run, step.Step, step.Loss, step.TokensPerSecond, step.TokensSeen);
        _latestPersisted = true;
    }

    private void OnCheckpoint(CheckpointWritten checkpoint)
    {
        // The trainer writes and renames the checkpoint; this span covers recording it (the
        // trainer's own spans, if it emits any, are exported from its ActivitySource).
        using var activity = GeneralistTelemetry.Activities.StartActivity("checkpoint.record");
        activity?.SetTag("run", run);
        activity?.SetTag("checkpoint.step", checkpoint.Step);
        var full = Path.GetFullPath(checkpoint.Path, layout.RunDirectory(run));
        if (!Security.SafePaths.IsUnder(layout.Root, full))
        {
            Log.CheckpointOutsideRoot(log, run, full);
            activity?.SetStatus(ActivityStatusCode.Error, "outside the data root");
            return;
        }
        var relative = layout.ToRelative(full);
        telemetry.RecordCheckpoint(run, checkpoint);
        Flush();
        registry.AddCheckpoint(run, checkpoint.Step, relative);
        Log.CheckpointRecorded(log, run, relative, checkpoint.Step);
        hub.Publish(run, new RunCheckpoint(run, clock.GetUtcNow(), checkpoint.Step, relative));
    }
}
