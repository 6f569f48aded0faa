using Generalist.Distributed;
using TorchSharp;
using TorchSharp.Modules;
using static TorchSharp.torch;

namespace Generalist.Training.Distributed;

/// <summary>
/// What the step executor does differently on W &gt; 1 ranks, following the exactness rule of
/// <see cref="GlobalLossNormalization"/>: each rank scales its micro-batch losses by the GLOBAL
/// loss-token count of the step (all-reduced first), the gradients are then summed across ranks
/// (or robustly aggregated) between backward and the clip + optimizer step, and the logged loss and
/// per-task sums are summed across ranks, so every rank logs and decides (skip, spike) identically.
/// </summary>
public sealed class DataParallelStep : IDisposable
{
    private readonly ICommunicator _communicator;
    private readonly GradientAverager _averager;

    public DataParallelStep(DistributedContext context, IEnumerable<Parameter> parameters, DistributedConfig config)
    {
        _communicator = context.Communicator;
        _averager = new GradientAverager(_communicator, parameters, GradientAggregators.FromConfig(config), GradientScaling.Sum, config.BucketBytes);
    }

    public int WorldSize => _communicator.WorldSize;

    /// <summary>The step's loss tokens over all ranks and micro-batches.</summary>
    public double GlobalLossTokens(double local) => GlobalLossNormalization.GlobalTokenCount(_communicator, local);

    /// <summary>Sums, over ranks, every gradient (one bucketed all-reduce or the configured robust rule).</summary>
    public GradientSyncStats SynchronizeGradients() => _averager.Synchronize();

    /// <summary>The aggregation rule's state to checkpoint (centered clipping's center), or null.</summary>
    public (string Name, Tensor Tensor)? AggregatorState => _averager.AggregatorState;

    /// <summary>Restores the rule's state from a checkpoint's optimizer entries; returns a note for the log, or null.</summary>
    public string? RestoreAggregatorState(IReadOnlyDictionary<string, Tensor> entries) => _averager.RestoreAggregatorState(entries);

    /// <summary>Element-wise sum over ranks of a small float32 statistics vector (returned on the CPU).</summary>
    public Tensor SumStatistics(Tensor values)
    {
        var host = values.to(ScalarType.Float32).cpu().contiguous();
        if (_communicator.WorldSize > 1) _communicator.AllReduceSum(host);
        return host;
    }

    /// <summary>True on every rank when any rank was asked to stop (so all stop at the same step).</summary>
    public bool AnyRank(bool flag) => _communicator.WorldSize == 1 ? flag : _communicator.SumOverRanks(flag ? 1 : 0) > 0;

    /// <summary>Makes every rank's parameters equal to rank 0's (at start and after a resume).</summary>
    public void BroadcastParameters(IEnumerable<Parameter> parameters) => GradientAverager.BroadcastParameters(_communicator, parameters);

    /// <summary>Waits for every rank (after rank 0 wrote a checkpoint, so all ranks see it before going on).</summary>
    public void Barrier() => _communicator.Barrier();

    public void Dispose() => _averager.Dispose();
}
