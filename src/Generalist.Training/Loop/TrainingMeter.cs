using System.Diagnostics.Metrics;

namespace Generalist.Training.Loop;

/// <summary>The `Generalist.Training` meter (src/Generalist.Service/README.md, "Telemetry"): the latest values of each step.</summary>
public static class TrainingMeter
{
    public const string Name = "Generalist.Training";
    private static readonly Meter Meter = new(Name);

    public static readonly Histogram<double> Loss = Meter.CreateHistogram<double>("generalist.train.loss", "1", "Training loss per task (attribute task) and overall");
    public static readonly Counter<long> Tokens = Meter.CreateCounter<long>("generalist.train.tokens", "{token}", "Tokens trained on");
    public static readonly Histogram<double> StepDuration = Meter.CreateHistogram<double>("generalist.train.step.duration", "s", "Wall time of one optimizer step");
    public static readonly Histogram<double> GradNorm = Meter.CreateHistogram<double>("generalist.train.grad_norm", "1", "Global gradient norm before clipping");
    public static readonly Histogram<double> LearningRate = Meter.CreateHistogram<double>("generalist.train.learning_rate", "1", "Learning rate of the step");
    public static readonly Histogram<double> Mfu = Meter.CreateHistogram<double>("generalist.train.mfu", "1", "Model FLOP/s over the machine's matmul peak");

    public static readonly Histogram<double> SyncDuration = Meter.CreateHistogram<double>("generalist.train.sync.duration", "s", "Gradient synchronisation across ranks per step");

    /// <summary>Every value carries the run and this process's rank (0 on one process), so a job's ranks stay apart.</summary>
    internal static void Record(string run, StepResult r, double lr, double mfu, int rank = 0)
    {
        var runTag = new KeyValuePair<string, object?>("run", run);
        var rankTag = new KeyValuePair<string, object?>("rank", rank);
        Loss.Record(r.Loss, runTag, rankTag, new("task", "all"));
        foreach (var (task, loss) in r.TaskLoss) Loss.Record(loss, runTag, rankTag, new("task", task));
        Tokens.Add(r.Tokens, runTag, rankTag);
        StepDuration.Record(r.TotalSeconds, runTag, rankTag);
        GradNorm.Record(r.GradNorm, runTag, rankTag);
        LearningRate.Record(lr, runTag, rankTag);
        Mfu.Record(mfu, runTag, rankTag);
        SyncDuration.Record(r.SyncSeconds, runTag, rankTag);
    }
}
