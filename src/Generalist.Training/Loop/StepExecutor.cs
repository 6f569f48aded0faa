using System.Diagnostics;
using Generalist.Model;
using Generalist.Torch;
using Generalist.Training.Data;
using Generalist.Training.Distributed;
using Generalist.Training.Optim;
using TorchSharp;
using static TorchSharp.torch;
using Generalist.Packing;

namespace Generalist.Training.Loop;

/// <summary>Settings of one training step; ContinuousLabelSigma: HL-Gauss label width in bins (0 = one-hot).</summary>
public sealed record StepOptions(int GradAccum, double GradClip, Precision Precision, Device Device, double ContinuousLabelSigma = 0);

/// <summary>What one step did, read back to the host once at its end.</summary>
public sealed record TrainingStepResult(
    double Loss,
    IReadOnlyDictionary<string, double> TaskLoss,
    double GradNorm,
    bool Skipped,
    long Tokens,
    double DataSeconds,
    double ForwardSeconds,
    double BackwardSeconds,
    double OptimizerSeconds,
    double SyncSeconds = 0)
{
    /// <summary>SyncSeconds: gradient synchronisation across ranks (0 on one process).</summary>
    public double TotalSeconds => DataSeconds + ForwardSeconds + BackwardSeconds + OptimizerSeconds + SyncSeconds;
}

/// <summary>
/// One optimizer step: GradAccum micro-batches of forward (under bf16 autocast when asked) and
/// backward, a global gradient clip and an AdamW update, all inside one dispose scope. The loss of
/// each micro-batch is scaled by its share of the step's loss tokens (known on the host from the
/// masks), so the accumulated gradient is that of the mean over all the step's loss tokens.
/// A non-finite loss or gradient norm turns into a device-side skip flag the optimizer honours;
/// the only host read is one small tensor at the end of the step (loss, norm, flag, per-task sums),
/// which is what logging needs. Times are wall-clock per phase: exact on CPU, where kernels run
/// synchronously; on CUDA they measure launch time until that final read.
/// With data parallelism (<see cref="DataParallelStep"/>) the step's loss-token count is the global
/// one, the gradients are summed across ranks between backward and the clip, and the logged sums
/// are summed across ranks: W ranks with batch B compute exactly the step of one process with W*B.
/// </summary>
public sealed class StepExecutor(GeneralistModel model, AdamW optimizer, StepOptions options, DataParallelStep? parallel = null)
{
    public TrainingStepResult Run(IBatchSource data, double learningRate, double lossMultiplier = 1.0)
    {
        using var scope = NewDisposeScope();
        var taskCount = Math.Max(1, data.TaskNames.Count);
        var clock = Stopwatch.StartNew();
        double dataS = 0, forwardS = 0, backwardS = 0;

        var batches = new PackedBatch[options.GradAccum];
        for (var i = 0; i < batches.Length; i++) batches[i] = data.Next();
        var localLossTokens = batches.Sum(b => b.LossMask.Sum(m => (double)m));
        var stepLossTokens = parallel is null ? localLossTokens : parallel.GlobalLossTokens(localLossTokens);
        var tokens = batches.Sum(b => (long)b.TokenCount);
        dataS += Lap(clock);

        var lossSum = zeros(Array.Empty<long>(), ScalarType.Float32, options.Device);
        var taskSums = zeros(taskCount, ScalarType.Float32, options.Device);
        var taskCounts = zeros(taskCount, ScalarType.Float32, options.Device);
        foreach (var batch in batches)
        {
            var inputs = ModelInputs.From(batch, options.Device);
            var targets = LossTargets.From(batch, options.Device);
            var microTokens = batch.LossMask.Sum(m => (double)m);
            dataS += Lap(clock);

            LossOutput output;
            using (options.Precision.Autocast(options.Device.type))
                output = model.Loss(inputs, targets.Targets, targets.LossMask, targets.TaskIds, taskCount, options.ContinuousLabelSigma);
            // This micro-batch's share of the step's mean; with no loss tokens at all, nothing to learn.
            var share = stepLossTokens > 0 ? microTokens / stepLossTokens : 0.0;
            using var weight = (share * lossMultiplier).ToScalar();
            var scaled = output.Loss * weight;
            lossSum.add_(output.Sum);
            taskSums.add_(output.TaskSums);
            taskCounts.add_(output.TaskCounts);
            forwardS += Lap(clock);

            scaled.backward();
            backwardS += Lap(clock);
        }

        double syncS = 0;
        if (parallel is { WorldSize: > 1 })
        {
            parallel.SynchronizeGradients();
            // One small all-reduce of the logged sums: every rank then reports the global loss.
            var summed = parallel.SumStatistics(cat([lossSum.reshape(1), taskSums, taskCounts])).to(options.Device);
            lossSum = summed[0];
            taskSums = summed.narrow(0, 1, taskCount);
            taskCounts = summed.narrow(0, 1 + taskCount, taskCount);
            syncS = Lap(clock);
        }
        // A per-step number: disposed after the op, so it stays alive through it (Generalist.Torch.Scalars).
        using var lossTokens = Math.Max(stepLossTokens, 1.0).ToScalar();
        var loss = lossSum / lossTokens * Scalars.Of(lossMultiplier);
        var gradNorm = optimizer.ClipGradients(options.GradClip);
        var skip = logical_not(isfinite(loss).logical_and(isfinite(gradNorm))).to(ScalarType.Float32);
        optimizer.Step(learningRate, skip);
        optimizer.ZeroGrad();
        var optimizerS = Lap(clock);

        // The one host read of the step.
        var stats = cat([loss.reshape(1), gradNorm.to(ScalarType.Float32).reshape(1), skip.reshape(1), taskSums, taskCounts]).cpu();
        var values = stats.data<float>().ToArray();
        var taskLoss = new Dictionary<string, double>(StringComparer.Ordinal);
        for (var t = 0; t < taskCount && t < data.TaskNames.Count; t++)
        {
            var count = values[3 + taskCount + t];
            if (count > 0) taskLoss[data.TaskNames[t]] = values[3 + t] * lossMultiplier / count;
        }
        optimizerS += Lap(clock);
        return new TrainingStepResult(values[0], taskLoss, values[1], values[2] != 0, tokens, dataS, forwardS, backwardS, optimizerS, syncS);
    }

    private static double Lap(Stopwatch clock)
    {
        var s = clock.Elapsed.TotalSeconds;
        clock.Restart();
        return s;
    }
}
