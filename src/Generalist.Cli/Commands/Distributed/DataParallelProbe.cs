using Generalist.Torch;
using System.Diagnostics;
using Generalist.Distributed;
using Generalist.Model;
using TorchSharp;
using static TorchSharp.torch;

namespace Generalist.Cli.Commands.Distributed;

/// <summary>Settings of one rank of `generalist distributed probe`.</summary>
public sealed record ProbeOptions(string Preset, int PerRankBatch, int ContextLength, int Steps, int Warmup, int Threads,
    DistributedConfig Distributed, long Seed);

/// <summary>What rank 0 reports: medians over the timed steps.</summary>
public sealed record ProbeResult(
    int WorldSize, string Backend, string Preset, long Parameters, int Buckets, int PerRankBatch, int ContextLength, int Threads,
    string Aggregation, int TimedSteps, double StepSecondsMedian, double StepsPerSecond, double GlobalTokensPerSecond,
    double WaitSecondsMedian, double SyncSecondsMedian, double CommunicationSecondsMedian, double AggregationSecondsMedian, double SyncFraction, float FinalLoss);

/// <summary>
/// Training steps of the real model (a preset of <see cref="GeneralistModel"/>) on random token
/// sequences, data parallel over the job the environment describes: forward, loss normalised by the
/// global token count, backward, gradient synchronisation, AdamW. Random tokens make the data cost
/// nothing, so the numbers isolate compute and communication; the trainer's own steps add the loader.
/// </summary>
public static class DataParallelProbe
{
    public static ProbeResult Run(DistributedContext context, ProbeOptions o)
    {
        var comm = context.Communicator;
        torch.set_num_threads(o.Threads);
        var config = ModelPresets.Get(o.Preset) with { ContextLength = o.ContextLength };
        config.Validate();
        using var model = new GeneralistModel(config, o.Seed);
        var parameters = model.parameters().ToList();
        GradientAverager.BroadcastParameters(comm, parameters);
        using var optimizer = optim.AdamW(parameters, lr: 3e-4, weight_decay: 0.0);
        using var averager = new GradientAverager(comm, parameters, GradientAggregators.FromConfig(o.Distributed), GradientScaling.Sum, o.Distributed.BucketBytes);

        var step = new List<double>();
        var wait = new List<double>();
        var sync = new List<double>();
        var communication = new List<double>();
        var aggregation = new List<double>();
        var lastLoss = 0f;
        var tokensPerRank = o.PerRankBatch * o.ContextLength;
        for (var s = 0; s < o.Warmup + o.Steps; s++)
        {
            using var scope = NewDisposeScope();
            var start = Stopwatch.GetTimestamp();
            using var g = new Generator((ulong)(o.Seed * 1_000_003 + s * 65_537 + comm.Rank));
            var tokens = randint(0, config.VocabSize, [o.PerRankBatch, o.ContextLength], generator: g);     // (B, T)
            var targets = randint(0, config.VocabSize, [o.PerRankBatch, o.ContextLength], generator: g);    // (B, T)
            using var inputs = new ModelInputs(o.PerRankBatch, o.ContextLength, 0, tokens,
                zeros([o.PerRankBatch, o.ContextLength], ScalarType.Int64), empty(0, ScalarType.Int64),
                empty(0, config.PatchDim), empty(0, ScalarType.Int64), empty(0, ScalarType.Int64));
            optimizer.zero_grad();
            var output = model.Loss(inputs, targets, ones([o.PerRankBatch, o.ContextLength]), zeros([o.PerRankBatch, o.ContextLength], ScalarType.Int64), 1);
            // Every token counts here, so the global count is known on the host without a collective.
            var globalTokens = (double)tokensPerRank * comm.WorldSize;
            var loss = GlobalLossNormalization.Normalize(output.Loss * Scalars.Of(tokensPerRank), globalTokens);
            loss.backward();
            // The probe (only) separates waiting for the slowest rank from the all-reduce itself:
            // without this barrier the sync time would include any imbalance between ranks.
            var waitStart = Stopwatch.GetTimestamp();
            comm.Barrier();
            var waited = Stopwatch.GetElapsedTime(waitStart).TotalSeconds;
            var stats = averager.Synchronize();
            optimizer.step();
            lastLoss = loss.item<float>();
            if (s < o.Warmup) continue;
            step.Add(Stopwatch.GetElapsedTime(start).TotalSeconds);
            wait.Add(waited);
            sync.Add(stats.TotalSeconds);
            communication.Add(stats.CommunicationSeconds);
            aggregation.Add(stats.AggregationSeconds);
        }
        var stepMedian = Median(step);
        return new ProbeResult(comm.WorldSize, comm.Backend, o.Preset, averager.ElementCount, averager.BucketCount, o.PerRankBatch, o.ContextLength,
            o.Threads, o.Distributed.Aggregation, step.Count, stepMedian, 1 / stepMedian, tokensPerRank * comm.WorldSize / stepMedian,
            Median(wait), Median(sync), Median(communication), Median(aggregation), Median(sync) / stepMedian, lastLoss * comm.WorldSize);
    }

    public static double Median(IReadOnlyList<double> values)
    {
        if (values.Count == 0) return double.NaN;
        var sorted = values.Order().ToArray();
        return sorted.Length % 2 == 1 ? sorted[sorted.Length / 2] : 0.5 * (sorted[sorted.Length / 2 - 1] + sorted[sorted.Length / 2]);
    }
}
