using System.Diagnostics;
using System.Diagnostics.Metrics;
using Generalist.Evaluation;
using Generalist.Training;

namespace Generalist.Service.Telemetry;

/// <summary>Meter, instrument and ActivitySource names (listed in src/Generalist.Service/README.md, "Telemetry").</summary>
public static class TelemetryNames
{
    public const string TrainingMeter = "Generalist.Training";
    public const string EvaluationMeter = "Generalist.Evaluation";
    public const string ServiceMeter = "Generalist.Service";
    public const string ActivitySourceName = "Generalist.Service";

    public const string TrainLoss = "generalist.train.loss";
    public const string TrainTokens = "generalist.train.tokens";
    public const string TrainStepDuration = "generalist.train.step.duration";
    public const string TrainGradNorm = "generalist.train.grad_norm";
    public const string TrainLearningRate = "generalist.train.learning_rate";
    public const string TrainMfu = "generalist.train.mfu";
    public const string EvalScore = "generalist.eval.score";
    public const string RunsActive = "generalist.runs.active";

    /// <summary>Every meter the service exports; areas that make their own instruments use the same names.</summary>
    public static readonly string[] Meters = [TrainingMeter, EvaluationMeter, ServiceMeter];

    /// <summary>Sources of spans: the service's, plus the trainer's and evaluator's own if they emit any.</summary>
    public static readonly string[] ActivitySources = [ActivitySourceName, TrainingMeter, EvaluationMeter];
}

/// <summary>
/// Whether the service records the generalist.train.* instruments from TrainingEvents. A trainer
/// that records them itself (in its own `Generalist.Training` meter) turns this off, so each
/// name is exported once.
/// </summary>
public sealed record TrainingTelemetryOptions(bool RecordFromEvents = true);

/// <summary>
/// The service's instruments, fed from TrainingEvents and evaluation results. Attributes: `task`,
/// `suite`, and `run` (the one run-unique value allowed, as a run holds many steps); never a step number.
/// </summary>
public sealed class GeneralistTelemetry : IDisposable
{
    public static readonly ActivitySource Activities = new(TelemetryNames.ActivitySourceName);

    // Step times from milliseconds (tiny models) to minutes (large ones), in seconds.
    private static readonly double[] StepBuckets = [0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30, 60, 120];

    private readonly Meter _training;
    private readonly Meter _evaluation;
    private readonly Meter _service;
    private readonly Gauge<double> _loss;
    private readonly Counter<long> _tokens;
    private readonly Histogram<double> _stepDuration;
    private readonly Gauge<double> _gradNorm;
    private readonly Gauge<double> _learningRate;
    private readonly Gauge<double> _mfu;
    private readonly Gauge<double> _evalScore;
    private readonly UpDownCounter<long> _runsActive;
    private readonly Dictionary<string, long> _tokensSeen = new(StringComparer.Ordinal);
    private readonly Lock _tokensGate = new();

    private readonly bool _recordTraining;

    public GeneralistTelemetry(IMeterFactory meters, TrainingTelemetryOptions? options = null)
    {
        _recordTraining = options?.RecordFromEvents ?? true;
        _training = meters.Create(TelemetryNames.TrainingMeter);
        _evaluation = meters.Create(TelemetryNames.EvaluationMeter);
        _service = meters.Create(TelemetryNames.ServiceMeter);
        _loss = _training.CreateGauge<double>(TelemetryNames.TrainLoss, unit: null, description: "Training loss of the latest step, per task (task=all: the mixture).");
        _tokens = _training.CreateCounter<long>(TelemetryNames.TrainTokens, unit: "{token}", description: "Tokens trained on.");
        _stepDuration = _training.CreateHistogram(TelemetryNames.TrainStepDuration, unit: "s", description: "Wall time of one optimizer step (data, forward, backward, optimizer).",
            advice: new InstrumentAdvice<double> { HistogramBucketBoundaries = StepBuckets });
        _gradNorm = _training.CreateGauge<double>(TelemetryNames.TrainGradNorm, unit: null, description: "Global gradient norm before clipping.");
        _learningRate = _training.CreateGauge<double>(TelemetryNames.TrainLearningRate, unit: null, description: "Learning rate of the latest step.");
        _mfu = _training.CreateGauge<double>(TelemetryNames.TrainMfu, unit: "1", description: "Model FLOP/s over the machine's matmul peak.");
        _evalScore = _evaluation.CreateGauge<double>(TelemetryNames.EvalScore, unit: null, description: "Expert-normalized score per task and suite (100 = expert, 0 = random).");
        _runsActive = _service.CreateUpDownCounter<long>(TelemetryNames.RunsActive, unit: "{run}", description: "Runs executing now.");
    }

    public void RecordStep(string run, StepCompleted step)
    {
        if (!_recordTraining) return;
        var runTag = new KeyValuePair<string, object?>("run", run);
        _loss.Record(step.Loss, runTag, new("task", "all"));
        foreach (var (task, loss) in step.TaskLoss) _loss.Record(loss, runTag, new("task", task));
        _stepDuration.Record(step.DataSeconds + step.ForwardSeconds + step.BackwardSeconds + step.OptimizerSeconds, runTag);
        _gradNorm.Record(step.GradNorm, runTag);
        _learningRate.Record(step.LearningRate, runTag);
        _mfu.Record(step.Mfu, runTag);
        // The trainer reports a running total (TokensSeen); a counter needs the increment.
        long delta;
        lock (_tokensGate)
        {
            _tokensSeen.TryGetValue(run, out var before);
            delta = step.TokensSeen - before;
            _tokensSeen[run] = step.TokensSeen;
        }
        if (delta > 0) _tokens.Add(delta, runTag);
    }

    /// <summary>A resumed run starts counting from the tokens its checkpoint had already seen.</summary>
    public void StartCounting(string run, long tokensSeen)
    {
        lock (_tokensGate) _tokensSeen[run] = tokensSeen;
    }

    public void RunStarted() => _runsActive.Add(1);
    public void RunEnded() => _runsActive.Add(-1);

    public void RecordEvaluation(EvaluationResult result)
    {
        foreach (var task in result.Tasks)
            if (task.NormalizedScore is { } score)
                _evalScore.Record(score, new("task", task.Task), new("suite", result.Suite));
    }

    public void Dispose()
    {
        _training.Dispose();
        _evaluation.Dispose();
        _service.Dispose();
    }
}
