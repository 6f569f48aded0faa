using TorchSharp;
using TorchSharp.Modules;
using static TorchSharp.torch;

namespace Generalist.Distributed.Tests;

public class GradientAveragingTests
{
    private static (Sequential Model, List<Parameter> Parameters) Model(long seed)
    {
        lock (typeof(GradientAveragingTests))
        {
            torch.manual_seed(seed);
            var model = nn.Sequential(("a", nn.Linear(5, 7)), ("act", nn.Tanh()), ("b", nn.Linear(7, 3)));
            return (model, model.parameters().ToList());
        }
    }

    private static void Backward(Sequential model, long dataSeed)
    {
        using var g = new Generator((ulong)dataSeed);
        var x = randn([6, 5], generator: g);
        model.call(x).square().sum().backward();
    }

    [Fact]
    public void Buckets_split_by_size_and_round_trip_the_gradients()
    {
        var (model, parameters) = Model(3);
        Backward(model, 10);
        var before = parameters.Select(p => p.grad!.data<float>().ToArray()).ToList();
        // 35 + 7 + 21 + 3 floats; 30-float buckets force a split, the 35-float weight alone in one.
        using var buckets = new GradientBuckets(parameters, 30 * sizeof(float));
        Assert.Equal(66, buckets.ElementCount);
        Assert.True(buckets.Buckets.Count >= 3, $"{buckets.Buckets.Count} buckets");
        Assert.All(buckets.Buckets.Skip(1), b => Assert.True(b.Flat.numel() <= 35));
        buckets.Pack();
        foreach (var p in parameters) p.grad!.zero_();
        buckets.Unpack();
        Assert.Equal(before, parameters.Select(p => p.grad!.data<float>().ToArray()).ToList());
    }

    [Fact]
    public void A_world_of_one_leaves_the_gradients_unchanged()
    {
        var (model, parameters) = Model(4);
        Backward(model, 11);
        var before = parameters.Select(p => p.grad!.data<float>().ToArray()).ToList();
        using var averager = new GradientAverager(new LocalCommunicator(), parameters, new MeanAggregator(), GradientScaling.Sum);
        var stats = averager.Synchronize();
        Assert.Equal(before, parameters.Select(p => p.grad!.data<float>().ToArray()).ToList());
        Assert.Equal(66, stats.Elements);
    }

    [Theory]
    [InlineData(1 << 20)]
    [InlineData(40)]
    public void Three_ranks_end_with_the_mean_gradient_bit_identical(long bucketBytes)
    {
        // The expected mean, computed here from each rank's own gradient.
        var own = Enumerable.Range(0, 3).Select(r =>
        {
            var (m, ps) = Model(5);
            Backward(m, 100 + r);
            return cat(ps.Select(p => p.grad!.reshape(-1)).ToArray()).data<float>().ToArray();
        }).ToList();
        using var group = new InProcessGroup(3);
        var results = group.Run(comm =>
        {
            var (m, ps) = Model(5);
            Backward(m, 100 + comm.Rank);
            using var averager = new GradientAverager(comm, ps, new MeanAggregator(), GradientScaling.Mean, bucketBytes);
            averager.Synchronize();
            return cat(ps.Select(p => p.grad!.reshape(-1)).ToArray()).data<float>().ToArray();
        });
        Assert.Equal(results[0], results[1]);
        Assert.Equal(results[0], results[2]);
        for (var i = 0; i < results[0].Length; i++)
            Assert.Equal((own[0][i] + own[1][i] + own[2][i]) / 3, results[0][i], 5);
    }

    [Fact]
    public void A_parameter_without_a_gradient_on_one_rank_gets_the_others_contribution()
    {
        using var group = new InProcessGroup(2);
        var results = group.Run(comm =>
        {
            var (m, ps) = Model(6);
            if (comm.Rank == 0) Backward(m, 7);   // rank 1 computed nothing: its gradients are None
            using var averager = new GradientAverager(comm, ps, new MeanAggregator(), GradientScaling.Sum);
            averager.Synchronize();
            return ps.Select(p => p.grad is null ? null : p.grad.data<float>().ToArray()).ToList();
        });
        Assert.All(results[1], g => Assert.NotNull(g));
        Assert.Equal(results[0], results[1]);
    }

    [Fact]
    public void Two_ranks_with_batch_B_match_one_process_with_batch_2B_after_50_steps()
    {
        var options = new WorkloadOptions { Steps = 50, PerRankBatch = 4, Seed = 21 };
        var single = DataParallelWorkload.Run(new LocalCommunicator(), new MeanAggregator(), options with { PerRankBatch = 8 });
        using var group = new InProcessGroup(2);
        var ranks = group.Run(comm => DataParallelWorkload.Run(comm, new MeanAggregator(), options));
        Assert.Equal(ranks[0].Parameters, ranks[1].Parameters);
        var worst = ranks[0].Parameters.Zip(single.Parameters, (a, b) => Math.Abs(a - b)).Max();
        Assert.True(worst <= 1e-5, $"largest parameter difference {worst}");
        Assert.True(single.Losses[^1] < 0.5 * single.Losses[0], $"loss {single.Losses[0]} -> {single.Losses[^1]}");
    }

    [Fact]
    public void The_same_seed_gives_the_same_numbers()
    {
        var options = new WorkloadOptions { Steps = 5, PerRankBatch = 3, Seed = 9 };
        var a = DataParallelWorkload.Run(new LocalCommunicator(), new MeanAggregator(), options);
        var b = DataParallelWorkload.Run(new LocalCommunicator(), new MeanAggregator(), options);
        Assert.Equal(a.Losses, b.Losses);
        Assert.Equal(a.Parameters, b.Parameters);
    }

    [Fact]
    public void The_global_token_count_normalises_uneven_ranks_exactly()
    {
        using var group = new InProcessGroup(3);
        var counts = group.Run(comm => GlobalLossNormalization.GlobalTokenCount(comm, comm.Rank + 1));
        Assert.All(counts, c => Assert.Equal(6.0, c));
        Assert.Throws<DistributedException>(() => GlobalLossNormalization.GlobalTokenCount(new LocalCommunicator(), double.NaN));
    }
}
