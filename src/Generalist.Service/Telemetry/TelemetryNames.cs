namespace Generalist.Service.Telemetry;

/// <summary>
/// Meter, instrument and ActivitySource names. Every instrument is listed with its kind, unit and
/// attributes in src/Generalist.Service/README.md ("Telemetry"); a test compares that table with /metrics.
/// </summary>
public static class TelemetryNames
{
    public const string TrainingMeter = "Generalist.Training";
    public const string EvaluationMeter = "Generalist.Evaluation";
    public const string ServiceMeter = "Generalist.Service";
    public const string ActivitySourceName = "Generalist.Service";

    // Levels of a running run (observable gauges: exported while the run executes).
    public const string TrainLoss = "generalist.train.loss";
    public const string TrainHeldOutLoss = "generalist.train.held_out_loss";
    public const string TrainLearningRate = "generalist.train.learning_rate";
    public const string TrainGradNorm = "generalist.train.grad_norm";
    public const string TrainMfu = "generalist.train.mfu";
    public const string TrainThroughput = "generalist.train.tokens_per_second";

    // Monotonic amounts (counters).
    public const string TrainTokens = "generalist.train.tokens";
    public const string TrainSteps = "generalist.train.steps";
    public const string TrainSkippedSteps = "generalist.train.skipped_steps";
    public const string TrainCheckpoints = "generalist.train.checkpoints";

    // Durations (histograms, seconds).
    public const string TrainStepDuration = "generalist.train.step.duration";
    public const string TrainPhaseDuration = "generalist.train.phase.duration";
    public const string TrainCheckpointDuration = "generalist.train.checkpoint.duration";

    public const string EvalScore = "generalist.eval.score";

    public const string RunsActive = "generalist.runs.active";
    public const string RunsEnded = "generalist.runs.ended";
    public const string QueueLength = "generalist.queue.length";

    /// <summary>Values of the `phase` attribute of <see cref="TrainPhaseDuration"/>.</summary>
    public static class Phases
    {
        public const string Data = "data";
        public const string Forward = "forward";
        public const string Backward = "backward";
        public const string Optimizer = "optimizer";
        public const string AllReduce = "allreduce";
    }

    /// <summary>Every meter the service exports.</summary>
    public static readonly string[] Meters = [TrainingMeter, EvaluationMeter, ServiceMeter];

    /// <summary>Sources of spans: the service's, plus the trainer's and evaluator's own if they emit any.</summary>
    public static readonly string[] ActivitySources = [ActivitySourceName, TrainingMeter, EvaluationMeter];
}

/// <summary>
/// Histogram bucket boundaries in seconds, one set per kind of duration: the SDK's default
/// (0, 5, 10, … 10000) would put every step of a small model in its first bucket.
/// </summary>
public static class TelemetryBuckets
{
    /// <summary>An optimizer step: milliseconds (tiny models on a GPU) to minutes (large ones on a CPU).</summary>
    public static readonly double[] Step = [0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30, 60, 120];

    /// <summary>One phase of a step (data, forward, backward, optimizer, all-reduce): a tenth of a millisecond up to a minute.</summary>
    public static readonly double[] Phase = [0.0001, 0.00025, 0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30, 60];

    /// <summary>Writing a checkpoint: kilobytes in milliseconds to gigabytes in minutes (fsync included).</summary>
    public static readonly double[] Checkpoint = [0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30, 60, 120, 300, 600];
}
