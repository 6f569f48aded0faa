using Generalist.Training.Loop;
using Generalist.Training.Optim;

namespace Generalist.Training.Tests;

public class ScheduleAndConfigTests
{
    [Fact]
    public void Warmup_is_linear_and_cosine_ends_at_ten_percent()
    {
        var s = new LearningRateSchedule(1e-3, 10, 110, 0.1);
        Assert.Equal(1e-4, s.At(1), 12);
        Assert.Equal(1e-3, s.At(10), 12);
        Assert.Equal(0.55e-3, s.At(60), 12); // half-way through the cosine: the mean of peak and floor
        Assert.Equal(1e-4, s.At(110), 12);
        Assert.Equal(1e-4, s.At(500), 12);
        for (var i = 11; i < 110; i++) Assert.True(s.At(i + 1) <= s.At(i));
    }

    [Theory]
    [InlineData("""{"spike": {"factor": 0.5}}""", "spike.factor")]
    [InlineData("""{"spike": {"window": 0}}""", "spike.window")]
    [InlineData("""{"peak_flops": -1}""", "peak_flops")]
    [InlineData("""{"non_finite": {"policy": "ignore"}}""", "non_finite.policy")]
    [InlineData("""{"steps": 0}""", "steps")]
    [InlineData("""{"spike": {"unknown": 1}}""", "spike.unknown")]
    public void Bad_config_values_name_their_field(string json, string field)
    {
        var e = Assert.Throws<ConfigException>(() => RunConfig.Parse(json));
        Assert.Contains(field, e.Message);
    }

    [Fact]
    public void The_spike_detector_ignores_early_steps_and_does_not_learn_from_spikes()
    {
        var d = new SpikeDetector(new SpikeConfig { Factor = 20, Window = 5, MinHistory = 3 });
        Assert.False(d.Observe(100)); // no history yet: never a spike
        Assert.False(d.Observe(1));
        Assert.False(d.Observe(1));
        Assert.True(d.Observe(1000));
        Assert.True(d.Observe(1000)); // the first spike did not raise the bar
        Assert.False(d.Observe(double.NaN));
        Assert.False(new SpikeDetector(new SpikeConfig { Enabled = false, MinHistory = 1 }).Observe(1e9));
    }

    [Fact]
    public void A_bf16_autocast_run_trains_with_finite_losses()
    {
        using var dir = new TempDir();
        var (result, events, _) = TrainerHarness.Run(TrainerHarness.Config(12, c => c with { Precision = "bf16" }), dir.Path);
        Assert.Equal(TrainingOutcome.Completed, result.Outcome);
        Assert.All(events.Steps, s => Assert.True(double.IsFinite(s.Loss) && !s.Skipped));
        Assert.True(events.Steps[^1].Loss < events.Steps[0].Loss);
    }
}
