using Generalist.Torch;
using System.Diagnostics;
using TorchSharp;
using TorchSharp.Modules;
using static TorchSharp.torch;

namespace Generalist.Distributed;

/// <summary>Settings of <see cref="DataParallelWorkload"/>.</summary>
public sealed record WorkloadOptions
{
    public int Steps { get; init; } = 50;
    /// <summary>Sequences per rank per step; the global batch is this times the world size.</summary>
    public int PerRankBatch { get; init; } = 4;
    public int SequenceLength { get; init; } = 8;
    public int Features { get; init; } = 16;
    public int Hidden { get; init; } = 32;
    public int Depth { get; init; } = 2;
    /// <summary>"adamw" or "sgd".</summary>
    public string Optimizer { get; init; } = "adamw";
    public double LearningRate { get; init; } = 1e-2;
    public long Seed { get; init; } = 1;
    /// <summary>A rank that sends a corrupted gradient (-1 = none), and how: gradient *= AttackFactor.</summary>
    public int Attacker { get; init; } = -1;
    public double AttackFactor { get; init; } = 1;
    public long BucketBytes { get; init; } = 25L << 20;
    /// <summary>Steps not timed (allocator and kernel warm-up).</summary>
    public int WarmupSteps { get; init; } = 0;
}

/// <summary>What one rank saw: the global loss per step, its final parameters and where its time went.</summary>
public sealed record WorkloadResult(float[] Losses, float[] Parameters, double[] StepSeconds, double[] SyncSeconds, double[] AggregationSeconds, long ParameterCount, int Buckets);

/// <summary>
/// A deterministic data-parallel training loop over a token-wise MLP on a teacher regression
/// problem, with masked "loss tokens" so ranks have unequal token counts. It exercises exactly the
/// pieces the trainer uses (global batch slicing, global loss normalisation, gradient averaging) and
/// serves the multi-process tests and the distributed benchmark with a model whose size is chosen
/// freely. The data of global step s depends only on (seed, s, global batch), never on the world size.
/// </summary>
public static class DataParallelWorkload
{
    private static readonly Lock InitGate = new();

    public static WorkloadResult Run(ICommunicator communicator, IGradientAggregator aggregator, WorkloadOptions o)
    {
        using var outer = NewDisposeScope();
        var shard = DataShard.Of(communicator);
        var globalBatch = shard.GlobalBatch(o.PerRankBatch);
        var (rowStart, rowCount) = shard.Rows(globalBatch);

        Sequential model;
        // Initialisation draws from the global generator; ranks simulated as threads of one process
        // (InProcessGroup) must not interleave their draws.
        lock (InitGate)
        {
            torch.manual_seed(o.Seed);
            model = BuildModel(o);
        }
        var parameters = model.parameters().ToList();
        GradientAverager.BroadcastParameters(communicator, parameters);
        optim.Optimizer optimizer = o.Optimizer switch
        {
            "adamw" => optim.AdamW(parameters, lr: o.LearningRate, weight_decay: 0.0),
            "sgd" => optim.SGD(parameters, o.LearningRate),
            _ => throw new DistributedException($"optimizer must be adamw or sgd (got '{o.Optimizer}')"),
        };
        using var averager = new GradientAverager(communicator, parameters, aggregator, GradientScaling.Sum, o.BucketBytes);
        var teacher = Teacher(o);

        var losses = new float[o.Steps];
        var stepSeconds = new List<double>();
        var syncSeconds = new List<double>();
        var aggregationSeconds = new List<double>();
        for (var step = 0; step < o.Steps; step++)
        {
            using var scope = NewDisposeScope();
            var started = Stopwatch.GetTimestamp();
            var (x, y, mask) = GlobalBatch(o, teacher, step, globalBatch);
            x = x.narrow(0, rowStart, rowCount);                      // (B, T, F): this rank's rows
            y = y.narrow(0, rowStart, rowCount);                      // (B, T, 1)
            mask = mask.narrow(0, rowStart, rowCount);                // (B, T, 1)

            optimizer.zero_grad();
            var localTokens = mask.sum().item<float>();
            var globalTokens = GlobalLossNormalization.GlobalTokenCount(communicator, localTokens);
            var lossSum = ((model.call(x) - y).square() * mask).sum();
            var loss = GlobalLossNormalization.Normalize(lossSum, globalTokens);
            loss.backward();
            if (communicator.Rank == o.Attacker)
                using (no_grad())
                    foreach (var p in parameters) p.grad?.mul_(Scalars.Of(o.AttackFactor));
            var sync = averager.Synchronize();
            optimizer.step();

            // The reported loss is the global one (sum over ranks), identical on every rank.
            losses[step] = (float)communicator.SumOverRanks(loss.item<float>());
            if (step >= o.WarmupSteps)
            {
                stepSeconds.Add(Stopwatch.GetElapsedTime(started).TotalSeconds);
                syncSeconds.Add(sync.CommunicationSeconds);
                aggregationSeconds.Add(sync.AggregationSeconds);
            }
        }
        var flat = cat(parameters.Select(p => p.detach().reshape(-1)).ToArray()).data<float>().ToArray();
        return new WorkloadResult(losses, flat, stepSeconds.ToArray(), syncSeconds.ToArray(), aggregationSeconds.ToArray(), averager.ElementCount, averager.BucketCount);
    }

    private static Sequential BuildModel(WorkloadOptions o)
    {
        var layers = new List<(string, nn.Module<Tensor, Tensor>)> { ("in", nn.Linear(o.Features, o.Hidden)), ("act0", nn.GELU()) };
        for (var i = 1; i < o.Depth; i++)
        {
            layers.Add(($"hidden{i}", nn.Linear(o.Hidden, o.Hidden)));
            layers.Add(($"act{i}", nn.GELU()));
        }
        layers.Add(("out", nn.Linear(o.Hidden, 1)));
        return nn.Sequential(layers.ToArray());
    }

    private static Tensor Teacher(WorkloadOptions o)
    {
        using var g = new Generator((ulong)(o.Seed ^ 0x5EED_7EAC));
        return randn([o.Features, 1], generator: g).MoveToOuterDisposeScope();
    }

    /// <summary>Global step s's batch: the same on every rank and for every world size with this global batch.</summary>
    private static (Tensor X, Tensor Y, Tensor Mask) GlobalBatch(WorkloadOptions o, Tensor teacher, int step, int globalBatch)
    {
        using var g = new Generator((ulong)(o.Seed * 1_000_003 + step));
        var x = randn([globalBatch, o.SequenceLength, o.Features], generator: g);             // (G, T, F)
        var y = x.matmul(teacher).div(Scalars.Of(Math.Sqrt(o.Features))).mul(Scalars.Of(2.0)).tanh() + Scalars.Of(0.1) * randn([globalBatch, o.SequenceLength, 1], generator: g);
        var mask = rand([globalBatch, o.SequenceLength, 1], generator: g).lt(Scalars.Of(0.7)).to(ScalarType.Float32);
        return (x, y, mask);
    }
}
