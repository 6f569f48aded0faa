using Generalist.Envs;
using Generalist.Episodes;

namespace Generalist.Envs.Tests;

/// <summary>Every scripted expert reaches the threshold documented in envs/README.md, and beats random play.</summary>
public class ExpertTests
{
    /// <summary>
    /// Over the README's 100 episodes (seeds 0..99), each expert must reach the usual "solved" mark
    /// where one exists: Gym's reward thresholds CartPole-v1 475, MountainCar-v0 -110,
    /// Acrobot-v1 -100; Pendulum-v1 has none, -200 is the common good mark (same cost scale here);
    /// Gym's Reacher-v2 threshold -3.75 on our comparable (not identical) arm; Catch is solved at 1.
    /// Gridnav's BFS expert is optimal (0.90 on these seeds, the bound from the step penalty);
    /// Sokoban replays real solutions on the two fixture levels.
    /// </summary>
    [Theory]
    [InlineData("cartpole", 475.0, 100)]
    [InlineData("mountaincar", -110.0, 100)]
    [InlineData("acrobot", -100.0, 100)]
    [InlineData("pendulum", -200.0, 100)]
    [InlineData("reacher", -3.75, 100)]
    [InlineData("catch", 1.0, 100)]
    [InlineData("gridnav", 0.85, 100)]
    [InlineData("sokoban", 8.0, 10)]
    public void Expert_reaches_its_threshold_and_beats_random(string name, double threshold, int episodes)
    {
        var env = Fixtures.Create(name);
        var expert = Rollouts.Evaluate(env, EnvRegistry.Expert(name), episodes, seed: 0);
        var random = Rollouts.Evaluate(env, new RandomPolicy(1), episodes, seed: 0);
        Assert.True(expert.MeanReturn >= threshold, $"{name} expert mean return {expert.MeanReturn} < {threshold}");
        Assert.True(expert.MeanReturn > random.MeanReturn, $"{name}: expert {expert.MeanReturn} <= random {random.MeanReturn}");
    }

    [Fact]
    public void Mountaincar_lookahead_beats_plain_pumping_and_still_plans_from_any_state()
    {
        // The plain pumping policy (the version-1 expert) averages about -133 on these seeds.
        var pump = Rollouts.Evaluate(new MountainCarEnv(), new PumpOnly(), 100, seed: 0);
        var expert = Rollouts.Evaluate(new MountainCarEnv(), new MountainCarExpert(), 100, seed: 0);
        Assert.InRange(pump.MeanReturn, -140, -125);
        Assert.True(expert.MeanReturn > pump.MeanReturn + 20, $"lookahead {expert.MeanReturn} vs pumping {pump.MeanReturn}");
        Assert.Equal(2, new MountainCarExpert().Version);
        // From a state far off the expert's path (high on the right slope, rolling back) it still reaches the flag.
        var env = new MountainCarEnv();
        env.Reset(0);
        env.SetState(0.3, -0.04);
        var expertPolicy = new MountainCarExpert();
        StepResult step;
        do step = env.Step(expertPolicy.Act(new Observation(), env)); while (!step.Done);
        Assert.True(step.Terminated, "the expert did not reach the flag from (0.3, -0.04)");
    }

    private sealed class PumpOnly : IPolicy
    {
        public ActionValue Act(Observation observation, IEnvironment env)
        {
            var (position, velocity) = ((MountainCarEnv)env).State;
            return ActionValue.OfDiscrete(MountainCarExpert.Pump(position, velocity));
        }
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
        Assert.Equal(s, Rollouts.Evaluate(new CatchEnv(), new RandomPolicy(2), 40, seed: 0)); // same episodes, not kept
    }
}
