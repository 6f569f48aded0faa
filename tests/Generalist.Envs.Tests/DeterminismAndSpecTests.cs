using Generalist.Envs;
using Generalist.Episodes;

namespace Generalist.Envs.Tests;

public class DeterminismAndSpecTests
{
    public static TheoryData<string> AllEnvs() => new(EnvRegistry.Names);

    [Theory]
    [MemberData(nameof(AllEnvs))]
    public void Same_seed_gives_the_same_trajectory_and_another_seed_a_different_one(string name)
    {
        var a = Fixtures.Trace(Fixtures.Create(name), new RandomPolicy(7), seed: 42);
        var b = Fixtures.Trace(Fixtures.Create(name), new RandomPolicy(7), seed: 42);
        Assert.Equal(a.Rewards, b.Rewards);
        Assert.Equal(a.Observations.Count, b.Observations.Count);
        for (var i = 0; i < a.Observations.Count; i++) Assert.True(Fixtures.SameObservation(a.Observations[i], b.Observations[i]), $"step {i} differs");

        // Some seed among a few must start differently (sokoban has only two fixture levels).
        var env = Fixtures.Create(name);
        var first = env.Reset(42);
        Assert.Contains(Enumerable.Range(1, 5), s => !Fixtures.SameObservation(first, env.Reset(42 + s)));
    }

    [Theory]
    [MemberData(nameof(AllEnvs))]
    public void Observations_stay_inside_the_spec_under_random_and_expert_play(string name)
    {
        var env = Fixtures.Create(name);
        foreach (var policy in new IPolicy[] { new RandomPolicy(3), EnvRegistry.Expert(name) })
            foreach (var episode in Rollouts.Collect(env, policy, 5, seed: 100, task: name))
                foreach (var t in episode.Timesteps)
                {
                    Assert.Empty(env.Spec.Violations(t.Observation));
                    Assert.All(t.Observation.Discrete ?? [], v => Assert.InRange(v, 0, 1023));
                    env.Spec.Action.Validate(name, t.Action);
                }
    }

    [Theory]
    [MemberData(nameof(AllEnvs))]
    public void Episodes_end_within_the_step_limit_and_the_limit_truncates(string name)
    {
        var env = Fixtures.Create(name);
        var episodes = Rollouts.Collect(env, new RandomPolicy(1), 10, seed: 5, task: name);
        Assert.All(episodes, e => Assert.InRange(e.Timesteps.Count, 1, env.Spec.MaxSteps));
    }

    [Theory]
    [MemberData(nameof(AllEnvs))]
    public void Bad_actions_are_refused_with_the_env_name_and_the_allowed_range(string name)
    {
        var env = Fixtures.Create(name);
        env.Reset(0);
        var space = env.Spec.Action;
        ActionValue[] bad = space.IsDiscrete
            ? [ActionValue.OfDiscrete(space.Choices), ActionValue.OfDiscrete(-1), ActionValue.OfContinuous(0f), ActionValue.OfDiscrete(0, 0)]
            : [ActionValue.OfContinuous(new float[space.Dimensions + 1]), ActionValue.OfDiscrete(0),
               ActionValue.OfContinuous(Enumerable.Repeat(1.5f, space.Dimensions).ToArray()),
               ActionValue.OfContinuous(Enumerable.Repeat(float.NaN, space.Dimensions).ToArray())];
        foreach (var action in bad)
        {
            var e = Assert.Throws<ArgumentException>(() => env.Step(action));
            Assert.StartsWith(name + ":", e.Message);
            Assert.Contains(space.IsDiscrete ? $"[0, {space.Choices})" : "[-1, 1]", e.Message);
        }
    }

    [Fact]
    public void Stepping_before_reset_or_after_the_end_is_refused()
    {
        var env = new CatchEnv();
        Assert.Throws<InvalidOperationException>(() => env.Step(ActionValue.OfDiscrete(1)));
        env.Reset(0);
        StepResult step;
        do step = env.Step(ActionValue.OfDiscrete(1)); while (!step.Done);
        Assert.Throws<InvalidOperationException>(() => env.Step(ActionValue.OfDiscrete(1)));
    }

    [Fact]
    public void Observation_fields_tile_each_part_without_gaps()
    {
        foreach (var name in EnvRegistry.Names)
        {
            var spec = Fixtures.Create(name).Spec;
            foreach (var part in new[] { ObservationPart.Discrete, ObservationPart.Continuous })
            {
                var offset = 0;
                foreach (var f in spec.Observation.Where(f => f.Part == part))
                {
                    Assert.Equal(offset, f.Offset);
                    offset += f.Length;
                }
            }
        }
    }

    [Fact]
    public void The_registry_names_every_env_and_refuses_unknown_names_and_sokoban_without_levels()
    {
        Assert.Equal(["cartpole", "mountaincar", "acrobot", "pendulum", "reacher", "catch", "gridnav", "sokoban"], EnvRegistry.Names);
        Assert.Contains("known: cartpole", Assert.Throws<ArgumentException>(() => EnvRegistry.Create("pong")).Message);
        Assert.Contains("sokoban needs levels", Assert.Throws<ArgumentException>(() => EnvRegistry.Create("sokoban")).Message);
    }

    [Fact]
    public void Random_policy_is_reproducible_per_episode_seed_and_covers_the_action_space()
    {
        var env = new MountainCarEnv();
        env.Reset(0);
        var p = new RandomPolicy(9);
        p.BeginEpisode(3);
        var first = Enumerable.Range(0, 200).Select(_ => p.Act(new Observation(), env).Discrete![0]).ToArray();
        p.BeginEpisode(3);
        var again = Enumerable.Range(0, 200).Select(_ => p.Act(new Observation(), env).Discrete![0]).ToArray();
        Assert.Equal(first, again);
        Assert.Equal([0, 1, 2], first.Distinct().Order());
    }
}
