using Generalist.Torch;
using TorchSharp;
using System.Diagnostics;
using TorchSharp.Modules;
using static TorchSharp.torch;

namespace Generalist.Distributed;

/// <summary>How the per-rank gradients relate to the loss each rank computed.</summary>
public enum GradientScaling
{
    /// <summary>
    /// Each rank's loss is already divided by the GLOBAL loss-token count
    /// (<see cref="GlobalLossNormalization"/>): the sum over ranks is exactly the gradient of one
    /// process on the combined batch. The exact choice; the trainer uses it.
    /// </summary>
    Sum,
    /// <summary>Each rank's loss is its own mean: divide the sum by the world size (exact only when every rank has as many loss tokens).</summary>
    Mean,
}

/// <summary>Where the time of one gradient synchronisation went (seconds).</summary>
public sealed record GradientSyncStats(double TotalSeconds, double CommunicationSeconds, double AggregationSeconds, long Elements, int Buckets);

/// <summary>
/// Makes every rank's gradients equal to the aggregate over ranks, between backward and the
/// optimizer step. The mean goes through an in-place all-reduce of a few large buckets; a robust
/// rule all-gathers one flat buffer (W x N floats) and applies the rule identically on every rank.
/// </summary>
public sealed class GradientAverager : IDisposable
{
    private readonly ICommunicator _communicator;
    private readonly GradientBuckets _buckets;
    private readonly IGradientAggregator _aggregator;
    private readonly GradientScaling _scaling;
    private readonly Tensor? _gathered;

    public IGradientAggregator Aggregator => _aggregator;
    public long ElementCount => _buckets.ElementCount;
    public int BucketCount => _buckets.Buckets.Count;

    public GradientAverager(ICommunicator communicator, IEnumerable<Parameter> parameters, IGradientAggregator aggregator,
        GradientScaling scaling, long bucketBytes = 25L << 20)
    {
        _communicator = communicator;
        _aggregator = aggregator;
        _scaling = scaling;
        // A robust rule needs each rank's whole gradient at once (centered clipping takes its norm),
        // so it uses one bucket; the mean streams any number of buckets.
        _buckets = new GradientBuckets(parameters, aggregator.IsMean ? bucketBytes : long.MaxValue);
        if (!aggregator.IsMean)
        {
            var flat = _buckets.Buckets[0].Flat;
            _gathered = zeros([communicator.WorldSize, flat.numel()], dtype: ScalarType.Float32, device: flat.device);
        }
    }

    /// <summary>The rule's state to checkpoint (name and tensor), or null when the rule keeps none or has none yet.</summary>
    public (string Name, Tensor Tensor)? AggregatorState =>
        _aggregator is IStatefulGradientAggregator { State: { } state } stateful ? (stateful.StateName, state) : null;

    /// <summary>
    /// Restores the rule's state from a checkpoint's entries (absent = start afresh). Returns what
    /// happened, for the run's log, or null when the rule keeps no state.
    /// </summary>
    public string? RestoreAggregatorState(IReadOnlyDictionary<string, Tensor> entries)
    {
        if (_aggregator is not IStatefulGradientAggregator stateful) return null;
        if (!entries.TryGetValue(stateful.StateName, out var state))
        {
            stateful.LoadState(null);
            return $"the checkpoint holds no {stateful.StateName}; {_aggregator.Name} starts afresh";
        }
        if (state.numel() != ElementCount)
            throw new InvalidDataException($"{stateful.StateName} has {state.numel()} values, the model's gradient {ElementCount}");
        stateful.LoadState(state.reshape(-1));
        return $"restored {stateful.StateName} ({state.numel()} values)";
    }

    /// <summary>All-reduces (or gathers and aggregates) the gradients in place. Every rank must call it.</summary>
    public GradientSyncStats Synchronize()
    {
        var start = Stopwatch.GetTimestamp();
        _buckets.Pack();
        double communication = 0, aggregation = 0;
        var world = _communicator.WorldSize;
        using (no_grad())
        {
            if (_aggregator.IsMean)
            {
                foreach (var bucket in _buckets.Buckets)
                {
                    var t0 = Stopwatch.GetTimestamp();
                    _communicator.AllReduceSum(bucket.Flat);
                    communication += Stopwatch.GetElapsedTime(t0).TotalSeconds;
                    if (_scaling == GradientScaling.Mean && world > 1) bucket.Flat.div_(Scalars.Of(world));
                }
            }
            else
            {
                var flat = _buckets.Buckets[0].Flat;
                var t0 = Stopwatch.GetTimestamp();
                _communicator.AllGather(flat, _gathered!);
                communication = Stopwatch.GetElapsedTime(t0).TotalSeconds;
                var t1 = Stopwatch.GetTimestamp();
                using var scope = NewDisposeScope();
                // Robust rules estimate the per-rank gradient; with Sum scaling the trainer expects
                // the sum over ranks, i.e. W times that estimate.
                var result = _aggregator.Aggregate(_gathered!);
                if (_scaling == GradientScaling.Sum && world > 1) result.mul_(Scalars.Of(world));
                flat.copy_(result);
                aggregation = Stopwatch.GetElapsedTime(t1).TotalSeconds;
            }
        }
        _buckets.Unpack();
        return new GradientSyncStats(Stopwatch.GetElapsedTime(start).TotalSeconds, communication, aggregation, _buckets.ElementCount, _buckets.Buckets.Count);
    }

    /// <summary>Copies rank root's parameters to every rank (at start, so every rank begins identical).</summary>
    public static void BroadcastParameters(ICommunicator communicator, IEnumerable<Parameter> parameters, int root = 0)
    {
        using var _ = no_grad();
        foreach (var p in parameters)
        {
            if (p.is_contiguous() && p.dtype == ScalarType.Float32)
            {
                communicator.Broadcast(p, root);
                continue;
            }
            using var copy = p.contiguous().to(ScalarType.Float32);
            communicator.Broadcast(copy, root);
            p.copy_(copy);
        }
    }

    public void Dispose()
    {
        _buckets.Dispose();
        _gathered?.Dispose();
        (_aggregator as IDisposable)?.Dispose();
    }
}

/// <summary>
/// The exactness rule of data parallelism: to equal one process on the combined batch, each rank's
/// loss must be (sum of its per-token losses) / (loss tokens over ALL ranks and micro-batches of the
/// step), and the gradients are then SUMMED (<see cref="GradientScaling.Sum"/>). Dividing by the
/// rank's own count and averaging is only exact when every rank has the same number of loss tokens,
/// which packed multi-task batches do not guarantee.
/// </summary>
public static class GlobalLossNormalization
{
    /// <summary>All-reduces the local loss-token count of this step; every rank gets the global count.</summary>
    public static double GlobalTokenCount(ICommunicator communicator, double localTokens)
    {
        if (!(localTokens >= 0) || !double.IsFinite(localTokens))
            throw new DistributedException($"loss-token count must be a finite number >= 0 (got {localTokens})");
        return communicator.WorldSize == 1 ? localTokens : communicator.SumOverRanks(localTokens);
    }

    /// <summary>lossSum / globalTokens, guarded against a step where no rank has a loss token.</summary>
    public static Tensor Normalize(Tensor lossSum, double globalTokens)
    {
        using var tokens = Math.Max(globalTokens, 1.0).ToScalar(); // kept alive through the op (Generalist.Torch.Scalars)
        return lossSum / tokens;
    }
}
