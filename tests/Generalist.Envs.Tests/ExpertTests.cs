using Generalist.Envs;

namespace Generalist.Envs.Tests;

/// <summary>Every scripted expert reaches the threshold documented in envs/README.md, and beats random play.</summary>
public class ExpertTests
{
    [Theory]
    [InlineData("cartpole", 475.0, 50)]
    [InlineData("mountaincar", -150.0, 50)]
    [InlineData("acrobot", -130.0, 50)]
    [InlineData("pendulum", -250.0, 50)]
    [InlineData("reacher", -6.0, 50)]
    [InlineData("catch", 1.0, 50)]
    [InlineData("gridnav", 0.8, 50)]
    [InlineData("sokoban", 8.0, 10)]
    public void Expert_reaches_its_threshold_and_beats_random(string name, double threshold, int episodes)
    {
        var env = Fixtures.Create(name);
        var expert = RolloutSummary.Of(Rollouts.Collect(env, EnvRegistry.Expert(name), episodes, seed: 1000, task: name));
        var random = RolloutSummary.Of(Rollouts.Collect(env, new RandomPolicy(1), episodes, seed: 1000, task: name));
        Assert.True(expert.MeanReturn >= threshold, $"{name} expert mean return {expert.MeanReturn} < {threshold}");
        Assert.True(expert.MeanReturn > random.MeanReturn, $"{name}: expert {expert.MeanReturn} <= random {random.MeanReturn}");
    }

    [Fact]
    public void Gridnav_expert_reaches_every_target_along_a_shortest_path()
    {
        var env = new GridNavEnv();
        foreach (var episode in Rollouts.Collect(env, new GridNavExpert(), 50, seed: 0, task: "gridnav"))
            Assert.True(episode.Timesteps[^1].Reward > 0);
    }

    [Fact]
    public void Summary_reports_mean_std_and_length()
    {
        var episodes = Rollouts.Collect(new CatchEnv(), new RandomPolicy(2), 40, seed: 0, task: "catch");
        var s = RolloutSummary.Of(episodes);
        var returns = episodes.Select(e => (double)e.Return).ToArray();
        Assert.Equal(40, s.Episodes);
        Assert.Equal(returns.Average(), s.MeanReturn, 9);
        Assert.Equal(Math.Sqrt(returns.Select(r => (r - s.MeanReturn) * (r - s.MeanReturn)).Average()), s.StdReturn, 9);
        Assert.Equal(7.0, s.MeanLength);
        Assert.All(episodes, e => Assert.Equal("catch", e.Task));
    }
}
