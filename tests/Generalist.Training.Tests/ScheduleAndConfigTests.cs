using Generalist.Training.Loop;
using Generalist.Training.Optim;
using Generalist.RunFormat;
using Generalist.TestSupport;

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
    [InlineData("""{"spike": {"min_rise": -1}}""", "spike.min_rise")]
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
        Assert.False(d.Observe(1, 100)); // no history yet: never a spike
        Assert.False(d.Observe(2, 1));
        Assert.False(d.Observe(3, 1));
        Assert.True(d.Observe(4, 1000));
        Assert.True(d.Observe(5, 1000)); // the first spike did not raise the bar
        Assert.False(d.Observe(6, double.NaN));
        Assert.False(new SpikeDetector(new SpikeConfig { Enabled = false, MinHistory = 1 }).Observe(1, 1e9));
    }

    [Fact]
    public void Noise_on_a_near_zero_loss_is_not_a_spike_and_a_rollback_forgets_later_losses()
    {
        var d = new SpikeDetector(new SpikeConfig { Factor = 20, Window = 50, MinHistory = 3, MinRise = 1 });
        for (var step = 1; step <= 10; step++) Assert.False(d.Observe(step, 0.0004));
        Assert.False(d.Observe(11, 0.03));   // 75x the mean, but 0.03 nats: noise
        Assert.True(d.Observe(12, 2.0));     // a real spike: 20x and more than a nat higher
        d.RewindTo(0);                       // back to the step-0 checkpoint: nothing of later steps is kept
        Assert.False(d.Observe(1, 9.4));     // the untrained model's loss is not a spike
        Assert.True(double.IsFinite(d.RecentMean));
        d.RewindTo(0);
        Assert.True(double.IsNaN(d.RecentMean));
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
