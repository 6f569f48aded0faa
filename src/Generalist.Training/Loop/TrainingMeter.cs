using System.Diagnostics.Metrics;

namespace Generalist.Training.Loop;

/// <summary>The `Generalist.Training` meter (DESIGN.md, Telemetry): the latest values of each step.</summary>
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

    internal static void Record(string run, StepResult r, double lr, double mfu)
    {
        var runTag = new KeyValuePair<string, object?>("run", run);
        Loss.Record(r.Loss, runTag, new("task", "all"));
        foreach (var (task, loss) in r.TaskLoss) Loss.Record(loss, runTag, new("task", task));
        Tokens.Add(r.Tokens, runTag);
        StepDuration.Record(r.TotalSeconds, runTag);
        GradNorm.Record(r.GradNorm, runTag);
        LearningRate.Record(lr, runTag);
        Mfu.Record(mfu, runTag);
    }
}
