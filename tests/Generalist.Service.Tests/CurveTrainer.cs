using Generalist.Training;
using Generalist.Training.Loop;
using Generalist.RunFormat;

namespace Generalist.Service.Tests;

/// <summary>
/// A trainer double that writes metrics.jsonl as the real trainer does (per-task losses, held-out
/// losses every 2 steps, throughput), so pages drawn from it have curves; steps wait for
/// <see cref="Gate"/> when set. Ends with a checkpoint.
/// </summary>
public sealed class CurveTrainer : ITrainer
{
    public SemaphoreSlim? Gate { get; init; }
    public static readonly string[] Tasks = ["cartpole", "text"];

    public static double LossAt(long step, int task) => 3.0 / Math.Sqrt(step) + 0.5 * task;

    public async Task<TrainingResult> RunAsync(RunConfig config, string runDirectory, bool resume, IProgress<TrainingEvent>? progress, CancellationToken cancellationToken)
    {
        Directory.CreateDirectory(runDirectory);
        using (var log = new MetricsLog(Path.Combine(runDirectory, "metrics.jsonl"), keepThroughStep: long.MaxValue))
            for (var step = 1L; step <= config.Steps; step++)
            {
                if (Gate is { } gate) await gate.WaitAsync(cancellationToken);
                var losses = Tasks.Select((t, i) => (t, LossAt(step, i))).ToDictionary(p => p.t, p => p.Item2);
                var heldOut = step % 2 == 0 ? losses.ToDictionary(p => p.Key, p => p.Value + 0.1) : null;
                var loss = losses.Values.Average();
                log.Append(new MetricsLine(step, loss, losses, 1e-3, 0.5, 512, step * 512, 1000 + step, 0.01, 0.001, 0.002, 0.003, 0.001, false, heldOut));
                progress?.Report(new StepCompleted(step, config.Steps, loss, losses, 1e-3, 0.5, step * 512, 1000 + step, 0.01, 0.001, 0.002, 0.003, 0.001, false));
                if (heldOut is not null) progress?.Report(new HeldOutEvaluated(step, heldOut));
            }
        var checkpoint = Directory.CreateDirectory(Path.Combine(runDirectory, "checkpoints", $"step-{config.Steps}")).FullName;
        progress?.Report(new CheckpointWritten(config.Steps, checkpoint));
        return new TrainingResult(TrainingOutcome.Completed, config.Steps, checkpoint, null);
    }
}
