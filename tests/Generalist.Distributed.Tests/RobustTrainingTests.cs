namespace Generalist.Distributed.Tests;

/// <summary>
/// Four ranks simulated as threads, one of which multiplies its gradient by 100 every step. With the
/// mean the run diverges; each robust rule ends within 10% of the clean run's final loss.
/// (The same experiment across processes, with a sign-flipped gradient, is in MpiJobTests.)
/// </summary>
public class RobustTrainingTests
{
    private static readonly WorkloadOptions Options = new()
    {
        Steps = 150, PerRankBatch = 4, Optimizer = "sgd", LearningRate = 0.3, Seed = 1, Attacker = 1, AttackFactor = 100,
    };

    private static double FinalLoss(float[] losses) => losses.TakeLast(10).Average(l => (double)l);

    private static float[] Train(IGradientAggregator rule, WorkloadOptions options)
    {
        using var group = new InProcessGroup(4);
        return group.Run(comm => DataParallelWorkload.Run(comm, rule is CenteredClipAggregator c ? new CenteredClipAggregator(c.Radius, c.Iterations) : rule, options))[0].Losses;
    }

    [Fact]
    public void With_a_scaled_gradient_the_mean_diverges_and_robust_rules_stay_near_the_clean_run()
    {
        var clean = FinalLoss(Train(new MeanAggregator(), Options with { Attacker = -1 }));
        var attackedMean = FinalLoss(Train(new MeanAggregator(), Options));
        Assert.True(!double.IsFinite(attackedMean) || attackedMean > 2 * clean, $"mean under attack {attackedMean}, clean {clean}");
        foreach (var rule in new IGradientAggregator[] { new TrimmedMeanAggregator(0.25), new MedianAggregator(), new CenteredClipAggregator(0, 3) })
        {
            var loss = FinalLoss(Train(rule, Options));
            Assert.True(loss <= 1.1 * clean, $"{rule.Name}: final loss {loss} vs clean {clean}");
        }
    }
}
