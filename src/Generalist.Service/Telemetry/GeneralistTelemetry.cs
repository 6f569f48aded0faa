using System.Collections.Concurrent;
using System.Diagnostics;
using System.Diagnostics.Metrics;
using Generalist.Evaluation;
using Generalist.Service.Registry;
using Generalist.Training;

namespace Generalist.Service.Telemetry;

/// <summary>
/// The service's instruments, the one place that records `generalist.*` metrics: from the
/// TrainingEvents of every run (trained in this process or launched as ranks, which the service
/// follows), from evaluation results and from the scheduler. Kinds follow what is measured:
/// levels are gauges, amounts counters, durations histograms in seconds. Attributes are bounded:
/// `run`, `task`, `suite`, `phase`, `state`; never a step.
/// </summary>
public sealed class GeneralistTelemetry : IDisposable
{
    public static readonly ActivitySource Activities = new(TelemetryNames.ActivitySourceName);

    /// <summary>The terminal states counted by <see cref="TelemetryNames.RunsEnded"/>.</summary>
    private static readonly JobState[] EndStates = [JobState.Succeeded, JobState.Failed, JobState.Cancelled, JobState.Interrupted];

    private readonly Meter _training;
    private readonly Meter _evaluation;
    private readonly Meter _service;
    private readonly Counter<long> _tokens;
    private readonly Counter<long> _steps;
    private readonly Counter<long> _skipped;
    private readonly Counter<long> _checkpoints;
    private readonly Histogram<double> _stepDuration;
    private readonly Histogram<double> _phaseDuration;
    private readonly Histogram<double> _checkpointDuration;
    private readonly Gauge<double> _evalScore;
    private readonly Counter<long> _runsEnded;

    // Runs executing now. Their levels are observed from here at each scrape, so a run's gauges
    // exist while it runs and end with it (its history is in Prometheus and its metrics.jsonl).
    private readonly ConcurrentDictionary<string, LiveRun> _live = new(StringComparer.Ordinal);

    public GeneralistTelemetry(IMeterFactory meters, IQueueLength queue)
    {
        _training = meters.Create(TelemetryNames.TrainingMeter);
        _evaluation = meters.Create(TelemetryNames.EvaluationMeter);
        _service = meters.Create(TelemetryNames.ServiceMeter);

        // Levels: gauges observed from the newest step (nothing to do per step but keep a reference).
        _training.CreateObservableGauge(TelemetryNames.TrainLoss, () => Levels(r => r.TaskLevels(r.Step?.Loss, r.Step?.TaskLoss)),
            unit: "{nat}", description: "Training loss of the newest step per task (task=all: the mixture); non-finite losses are left out.");
        _training.CreateObservableGauge(TelemetryNames.TrainHeldOutLoss, () => Levels(r => r.TaskLevels(null, r.HeldOut)),
            unit: "{nat}", description: "Held-out loss of the newest evaluation interval per task.");
        _training.CreateObservableGauge(TelemetryNames.TrainLearningRate, () => Levels(r => r.Level(r.Step?.LearningRate)),
            description: "Learning rate of the newest step.");
        _training.CreateObservableGauge(TelemetryNames.TrainGradNorm, () => Levels(r => r.Level(r.Step?.GradNorm)),
            description: "Global gradient norm of the newest step, before clipping.");
        _training.CreateObservableGauge(TelemetryNames.TrainMfu, () => Levels(r => r.Level(r.Step?.Mfu)),
            unit: "1", description: "Model FLOP/s of the newest step over the machine's matmul peak.");
        _training.CreateObservableGauge(TelemetryNames.TrainThroughput, () => Levels(r => r.Level(r.Step?.TokensPerSecond)),
            unit: "{token}/s", description: "Tokens per second of the newest step (all ranks together).");

        _tokens = _training.CreateCounter<long>(TelemetryNames.TrainTokens, unit: "{token}", description: "Tokens trained on (all ranks together).");
        _steps = _training.CreateCounter<long>(TelemetryNames.TrainSteps, unit: "{step}", description: "Steps completed, skipped ones included.");
        _skipped = _training.CreateCounter<long>(TelemetryNames.TrainSkippedSteps, unit: "{step}", description: "Steps whose update was skipped for a non-finite loss or gradient norm.");
        _checkpoints = _training.CreateCounter<long>(TelemetryNames.TrainCheckpoints, unit: "{checkpoint}", description: "Checkpoints written completely.");

        _stepDuration = _training.CreateHistogram(TelemetryNames.TrainStepDuration, unit: "s",
            description: "Wall time of one step (data, forward, backward, optimizer, all-reduce).",
            advice: new InstrumentAdvice<double> { HistogramBucketBoundaries = TelemetryBuckets.Step });
        _phaseDuration = _training.CreateHistogram(TelemetryNames.TrainPhaseDuration, unit: "s",
            description: "Wall time of one phase of a step (phase: data, forward, backward, optimizer; allreduce on several ranks).",
            advice: new InstrumentAdvice<double> { HistogramBucketBoundaries = TelemetryBuckets.Phase });
        _checkpointDuration = _training.CreateHistogram(TelemetryNames.TrainCheckpointDuration, unit: "s",
            description: "Time to write one checkpoint (runs trained in the service's process).",
            advice: new InstrumentAdvice<double> { HistogramBucketBoundaries = TelemetryBuckets.Checkpoint });

        _evalScore = _evaluation.CreateGauge<double>(TelemetryNames.EvalScore,
            description: "Expert-normalized score of the newest evaluation per task and suite (100 = expert, 0 = random).");

        _service.CreateObservableUpDownCounter(TelemetryNames.RunsActive, () => _live.Values.Select(r => new Measurement<int>(1, r.RunTag)),
            unit: "{run}", description: "Training runs executing now (1 per run; sum for the count).");
        _service.CreateObservableUpDownCounter(TelemetryNames.QueueLength, () => queue.QueuedCount,
            unit: "{job}", description: "Jobs (runs, evaluations, studies) waiting for a worker.");
        _runsEnded = _service.CreateCounter<long>(TelemetryNames.RunsEnded, unit: "{run}", description: "Training runs that ended, per final state.");
        // Every state starts at 0, so the first failure is an increase Prometheus can see.
        foreach (var state in EndStates) _runsEnded.Add(0, StateTag(state));
    }

    /// <summary>A run starts executing; a resumed run counts tokens from what its checkpoint had seen.</summary>
    public void RunStarted(string run, long tokensSeen)
    {
        var live = new LiveRun(run, tokensSeen);
        _live[run] = live;
        // Counters start at 0 with the run: rate() and increase() then see its first steps.
        _tokens.Add(0, live.RunTag);
        _steps.Add(0, live.RunTag);
        _skipped.Add(0, live.RunTag);
        _checkpoints.Add(0, live.RunTag);
    }

    /// <summary>The run stopped executing (whatever the outcome): its levels are no longer exported.</summary>
    public void RunStopped(string run) => _live.TryRemove(run, out _);

    /// <summary>A run reached a final state.</summary>
    public void RunEnded(JobState state) => _runsEnded.Add(1, StateTag(state));

    /// <summary>Called on the trainer's thread after every step: a reference swap, three counters, a few histogram records.</summary>
    public void RecordStep(string run, StepCompleted step)
    {
        if (!_live.TryGetValue(run, out var live)) return;
        live.Step = step;
        var runTag = live.RunTag;
        _steps.Add(1, runTag);
        if (step.Skipped) _skipped.Add(1, runTag);
        // The trainer reports a running total (TokensSeen); a counter needs the increment.
        var delta = step.TokensSeen - live.TokensSeen;
        live.TokensSeen = step.TokensSeen;
        if (delta > 0) _tokens.Add(delta, runTag);

        _stepDuration.Record(step.DataSeconds + step.ForwardSeconds + step.BackwardSeconds + step.OptimizerSeconds + step.SyncSeconds, runTag);
        _phaseDuration.Record(step.DataSeconds, runTag, live.PhaseTags[0]);
        _phaseDuration.Record(step.ForwardSeconds, runTag, live.PhaseTags[1]);
        _phaseDuration.Record(step.BackwardSeconds, runTag, live.PhaseTags[2]);
        _phaseDuration.Record(step.OptimizerSeconds, runTag, live.PhaseTags[3]);
        // Only a step that synchronised across ranks has an all-reduce; one process would add zeros.
        if (step.SyncSeconds > 0) _phaseDuration.Record(step.SyncSeconds, runTag, live.PhaseTags[4]);
    }

    public void RecordHeldOut(string run, HeldOutEvaluated heldOut)
    {
        if (_live.TryGetValue(run, out var live)) live.HeldOut = heldOut.TaskLoss;
    }

    public void RecordCheckpoint(string run, CheckpointWritten checkpoint)
    {
        var runTag = new KeyValuePair<string, object?>("run", run);
        _checkpoints.Add(1, runTag);
        if (checkpoint.WriteSeconds is { } seconds) _checkpointDuration.Record(seconds, runTag);
    }

    public void RecordEvaluation(EvaluationResult result)
    {
        foreach (var task in result.Tasks)
            if (task.NormalizedScore is { } score && double.IsFinite(score))
                _evalScore.Record(score, new("task", task.Task), new("suite", result.Suite));
    }

    private IEnumerable<Measurement<double>> Levels(Func<LiveRun, IEnumerable<Measurement<double>>> of) => _live.Values.SelectMany(of);

    private static KeyValuePair<string, object?> StateTag(JobState state) => new("state", JobStates.ToText(state));

    public void Dispose()
    {
        _training.Dispose();
        _evaluation.Dispose();
        _service.Dispose();
    }

    /// <summary>What the gauges of one executing run read. Step and HeldOut are swapped whole by the trainer's thread.</summary>
    private sealed class LiveRun(string run, long tokensSeen)
    {
        private static readonly string[] PhaseNames =
            [TelemetryNames.Phases.Data, TelemetryNames.Phases.Forward, TelemetryNames.Phases.Backward, TelemetryNames.Phases.Optimizer, TelemetryNames.Phases.AllReduce];

        private volatile StepCompleted? _step;
        private volatile IReadOnlyDictionary<string, double>? _heldOut;

        public KeyValuePair<string, object?> RunTag { get; } = new("run", run);
        public KeyValuePair<string, object?>[] PhaseTags { get; } = PhaseNames.Select(p => new KeyValuePair<string, object?>("phase", p)).ToArray();
        public long TokensSeen { get; set; } = tokensSeen; // the trainer's thread only

        public StepCompleted? Step { get => _step; set => _step = value; }
        public IReadOnlyDictionary<string, double>? HeldOut { get => _heldOut; set => _heldOut = value; }

        public IEnumerable<Measurement<double>> Level(double? value)
        {
            if (value is { } v && double.IsFinite(v)) yield return new Measurement<double>(v, RunTag);
        }

        /// <summary>One value per task, plus the mixture as task=all when given.</summary>
        public IEnumerable<Measurement<double>> TaskLevels(double? all, IReadOnlyDictionary<string, double>? perTask)
        {
            if (all is { } a && double.IsFinite(a)) yield return new Measurement<double>(a, RunTag, new("task", "all"));
            foreach (var (task, value) in perTask ?? new Dictionary<string, double>())
                if (double.IsFinite(value)) yield return new Measurement<double>(value, RunTag, new("task", task));
        }
    }
}
