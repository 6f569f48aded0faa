using static TorchSharp.torch;

namespace Generalist.Distributed.Tests;

public class AggregationRuleTests
{
    // Rows are ranks, columns coordinates.
    private static Tensor G(float[,] values) => tensor(values);
    private static float[] V(Tensor t) => t.data<float>().ToArray();

    [Fact]
    public void The_mean_averages_each_coordinate()
    {
        Assert.Equal([2f, 20f], V(new MeanAggregator().Aggregate(G(new float[,] { { 1, 10 }, { 2, 20 }, { 3, 30 } }))));
    }

    [Fact]
    public void The_trimmed_mean_drops_the_extremes_of_each_coordinate()
    {
        // W = 5, fraction 0.25: one value dropped at each end per coordinate.
        var g = G(new float[,] { { 1, -100 }, { 2, 5 }, { 3, 6 }, { 1000, 7 }, { 4, 8 } });
        var rule = new TrimmedMeanAggregator(0.25);
        Assert.Equal(1, rule.Trimmed(5));
        Assert.Equal([3f, 6f], V(rule.Aggregate(g)));
    }

    [Fact]
    public void The_trimmed_mean_with_nothing_to_trim_is_the_mean()
    {
        var g = G(new float[,] { { 1, 2 }, { 3, 4 } });
        Assert.Equal([2f, 3f], V(new TrimmedMeanAggregator(0.25).Aggregate(g)));
    }

    [Fact]
    public void The_median_takes_the_middle_value_or_the_mean_of_the_two_middle_ones()
    {
        Assert.Equal([2f, 7f], V(new MedianAggregator().Aggregate(G(new float[,] { { 1, 9 }, { 2, 7 }, { 1e9f, -3 } }))));
        Assert.Equal([2.5f, 6f], V(new MedianAggregator().Aggregate(G(new float[,] { { 1, 9 }, { 2, 7 }, { 3, 5 }, { 1e9f, -3 } }))));
    }

    [Fact]
    public void Centered_clipping_bounds_what_one_far_rank_can_move()
    {
        // Four honest ranks near (1, 1), one at (1e6, -1e6). The mean moves ~2e5; CC stays within
        // radius / W of the honest mean per iteration.
        var g = G(new float[,] { { 1.0f, 1.0f }, { 1.1f, 0.9f }, { 0.9f, 1.1f }, { 1.0f, 1.0f }, { 1e6f, -1e6f } });
        using var rule = new CenteredClipAggregator(radius: 0.5, iterations: 3);
        var result = V(rule.Aggregate(g));
        Assert.InRange(result[0], 0.9f, 1.0f + 3 * 0.5f / 5 + 1e-4f);
        Assert.InRange(result[1], 1.0f - 3 * 0.5f / 5 - 1e-4f, 1.1f);
    }

    [Fact]
    public void Centered_clipping_with_a_large_radius_is_the_mean_around_its_history()
    {
        var g = G(new float[,] { { 1, 2 }, { 3, 4 }, { 5, 6 } });
        using var rule = new CenteredClipAggregator(radius: 1e9, iterations: 1);
        Assert.Equal([3f, 4f], V(rule.Aggregate(g)));
        // The next step starts from the last aggregate; still the mean when nothing is clipped.
        Assert.Equal([3f, 4f], V(rule.Aggregate(g)));
    }

    [Fact]
    public void Adaptive_centered_clipping_resists_a_far_rank_without_a_radius()
    {
        var g = G(new float[,] { { 1.0f, 1.0f }, { 1.2f, 0.8f }, { 0.8f, 1.2f }, { 1.0f, 1.0f }, { -400f, 400f } });
        using var rule = new CenteredClipAggregator(radius: 0, iterations: 3);
        var result = V(rule.Aggregate(g));
        Assert.InRange(result[0], 0.8f, 1.2f);
        Assert.InRange(result[1], 0.8f, 1.2f);
    }

    [Theory]
    [InlineData("trimmed_mean", 0.5, "distributed.trim_fraction must be in [0, 0.5)")]
    [InlineData("centered_clip", -1.0, "distributed.clip_radius must be a finite number >= 0")]
    public void Bad_parameters_name_the_config_field(string rule, double value, string message)
    {
        var config = rule == "trimmed_mean" ? new DistributedConfig { Aggregation = rule, TrimFraction = value } : new DistributedConfig { Aggregation = rule, ClipRadius = value };
        var e = Assert.Throws<DistributedException>(() => GradientAggregators.FromConfig(config));
        Assert.Contains(message, e.Message);
    }
    [Fact]
    public void Centered_clipping_restored_from_its_saved_center_continues_exactly_and_a_fresh_one_does_not()
    {
        var steps = Enumerable.Range(0, 4).Select(i => G(new float[,] { { 1 + i, 2 }, { 1.5f, 2 + i }, { 40, -40 * i }, { 0.5f, 1 } })).ToList();
        using var original = new CenteredClipAggregator(0, 3);
        var expected = steps.Select(g => V(original.Aggregate(g))).ToList();

        // Stop after two steps, save the state, restore it into a new aggregator, go on.
        using var first = new CenteredClipAggregator(0, 3);
        first.Aggregate(steps[0]);
        first.Aggregate(steps[1]);
        using var saved = first.State!.clone();
        using var resumed = new CenteredClipAggregator(0, 3);
        resumed.LoadState(saved);
        Assert.Equal(expected[2], V(resumed.Aggregate(steps[2])));
        Assert.Equal(expected[3], V(resumed.Aggregate(steps[3])));

        // Without the history the next step starts from the median and comes out differently.
        using var fresh = new CenteredClipAggregator(0, 3);
        Assert.NotEqual(expected[2], V(fresh.Aggregate(steps[2])));
    }

    [Fact]
    public void A_saved_center_of_the_wrong_shape_is_refused_with_the_entry_named()
    {
        using var rule = new CenteredClipAggregator(0, 3);
        var e = Assert.Throws<DistributedException>(() => rule.LoadState(zeros(2, 2)));
        Assert.Contains(CenteredClipAggregator.CenterEntry, e.Message);
        rule.LoadState(zeros(3));
        var wrong = Assert.Throws<DistributedException>(() => rule.Aggregate(G(new float[,] { { 1, 2 }, { 3, 4 } })));
        Assert.Contains("3 values", wrong.Message);
    }
}
