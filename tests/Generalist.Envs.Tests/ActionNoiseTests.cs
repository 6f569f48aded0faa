using Generalist.Envs;
using Generalist.Episodes;

namespace Generalist.Envs.Tests;

/// <summary>DART-style action noise in expert data collection (<see cref="ActionNoise"/>, <see cref="Rollouts"/>).</summary>
public class ActionNoiseTests
{
    public static TheoryData<string> ClosedLoopEnvs() => new(EnvRegistry.Names.Where(n => n != "sokoban"));

    private static readonly ActionNoise Heavy = new(0.3);

    [Theory]
    [MemberData(nameof(ClosedLoopEnvs))]
    public void The_env_follows_the_executed_action_and_the_expert_acts_from_the_real_state(string name)
    {
        var episodes = Rollouts.Collect(Fixtures.Create(name), EnvRegistry.Expert(name), 6, seed: 21, task: name, Heavy);
        var perturbed = 0;
        for (var i = 0; i < episodes.Count; i++)
        {
            // Replay the recorded actions in a fresh env with a fresh expert: the same observations
            // and rewards come back (the record holds what was executed), and at every scored step the
            // recorded action is what the expert chooses in that state (it re-plans after perturbations).
            var env = Fixtures.Create(name);
            var expert = EnvRegistry.Expert(name);
            expert.BeginEpisode(21 + i);
            var obs = env.Reset(21 + i);
            var steps = episodes[i].Timesteps;
            for (var t = 0; t < steps.Count; t++)
            {
                Assert.True(Fixtures.SameObservation(obs, steps[t].Observation), $"{name} episode {i} step {t}: observation differs");
                var choice = expert.Act(obs, env);
                var recorded = steps[t].Action!;
                env.Spec.Action.Validate(name, recorded);
                if (steps[t].ActionScored)
                {
                    Assert.Equal(choice.Discrete, recorded.Discrete);
                    Assert.Equal(choice.Continuous, recorded.Continuous);
                }
                else
                {
                    perturbed++;
                    if (env.Spec.Action.IsDiscrete) Assert.NotEqual(choice.Discrete![0], recorded.Discrete![0]);
                    else Assert.False(choice.Continuous!.SequenceEqual(recorded.Continuous!), $"{name}: a perturbed continuous action equals the expert's");
                }
                var step = env.Step(recorded);
                Assert.Equal(step.Reward, steps[t].Reward);
                Assert.Equal(t == steps.Count - 1, step.Done);
                obs = step.Observation;
            }
        }
        Assert.True(perturbed > 0, $"{name}: no step was perturbed at p = 0.3");
    }

    [Theory]
    [MemberData(nameof(ClosedLoopEnvs))]
    public void Zero_noise_gives_exactly_the_plain_expert_episodes(string name)
    {
        var env = Fixtures.Create(name);
        var zero = Rollouts.Collect(env, EnvRegistry.Expert(name), 4, seed: 5, task: name, new ActionNoise(0));
        var plain = Rollouts.Collect(env, EnvRegistry.Expert(name), 4, seed: 5, task: name);
        for (var i = 0; i < 4; i++)
        {
            // The reference is an independent loop over the plain expert.
            var (observations, rewards) = Fixtures.Trace(Fixtures.Create(name), EnvRegistry.Expert(name), 5 + i);
            foreach (var episode in new[] { zero[i], plain[i] })
            {
                Assert.Equal(rewards, episode.Timesteps.Select(t => t.Reward));
                Assert.All(episode.Timesteps.Select((t, k) => (t, k)), p => Assert.True(Fixtures.SameObservation(observations[p.k], p.t.Observation)));
                Assert.All(episode.Timesteps, t => Assert.True(t.ActionScored));
            }
            Assert.Equal(plain[i].Timesteps.Select(Show), zero[i].Timesteps.Select(Show));
        }
    }

    [Theory]
    [InlineData("cartpole")]
    [InlineData("pendulum")]
    [InlineData("gridnav")]
    public void Same_seed_gives_the_same_noisy_episodes_and_another_seed_other_perturbations(string name)
    {
        var a = Rollouts.Collect(Fixtures.Create(name), EnvRegistry.Expert(name), 5, seed: 9, task: name, Heavy);
        var b = Rollouts.Collect(Fixtures.Create(name), EnvRegistry.Expert(name), 5, seed: 9, task: name, Heavy);
        for (var i = 0; i < a.Count; i++)
        {
            Assert.Equal(a[i].Timesteps.Select(Show), b[i].Timesteps.Select(Show));
            Assert.All(a[i].Timesteps.Zip(b[i].Timesteps), p => Assert.True(Fixtures.SameObservation(p.First.Observation, p.Second.Observation)));
        }
        // The perturbations follow the episode seed: episode i + 1 of a equals episode i of a run from seed + 1.
        var shifted = Rollouts.Collect(Fixtures.Create(name), EnvRegistry.Expert(name), 4, seed: 10, task: name, Heavy);
        for (var i = 0; i < shifted.Count; i++) Assert.Equal(a[i + 1].Timesteps.Select(Show), shifted[i].Timesteps.Select(Show));
        // Another seed: other perturbations.
        var other = Rollouts.Collect(Fixtures.Create(name), EnvRegistry.Expert(name), 5, seed: 1000, task: name, Heavy);
        Assert.NotEqual(a.SelectMany(e => e.Timesteps).Select(t => t.ActionScored), other.SelectMany(e => e.Timesteps).Select(t => t.ActionScored));
    }

    [Theory]
    [InlineData("cartpole", 2)]
    [InlineData("reacher", 1)]
    [InlineData("catch", 3)]
    public void Batched_noisy_rollouts_equal_sequential_ones(string name, int parallelism)
    {
        var sequential = Rollouts.Collect(Fixtures.Create(name), EnvRegistry.Expert(name), 7, seed: 3, task: name, Heavy);
        using var vector = VectorEnv.Create(() => Fixtures.Create(name), 3, parallelism);
        var batched = Rollouts.CollectBatched(vector, _ => EnvRegistry.Expert(name), 7, seed: 3, task: name, Heavy);
        for (var i = 0; i < sequential.Count; i++)
        {
            Assert.Equal(sequential[i].Timesteps.Select(Show), batched[i].Timesteps.Select(Show));
            Assert.All(sequential[i].Timesteps.Zip(batched[i].Timesteps), p => Assert.True(Fixtures.SameObservation(p.First.Observation, p.Second.Observation)));
        }
    }

    [Fact]
    public void The_share_of_perturbed_steps_follows_the_probability()
    {
        foreach (var p in new[] { 0.05, 0.2, 0.5 })
        {
            var steps = Rollouts.Collect(new CartPoleEnv(), new CartPoleExpert(), 40, seed: 0, task: "cartpole", new ActionNoise(p)).SelectMany(e => e.Timesteps).ToList();
            var share = steps.Count(t => !t.ActionScored) / (double)steps.Count;
            var tolerance = 4 * Math.Sqrt(p * (1 - p) / steps.Count);
            Assert.InRange(share, p - tolerance, p + tolerance);
        }
    }

    [Fact]
    public void Discrete_perturbations_are_uniform_over_the_other_choices_and_continuous_ones_are_clipped_gaussian()
    {
        var noise = new ActionNoise(0.5);
        var random = new EnvRandom(1);
        var space = ActionSpace.Discrete("a", "b", "c", "d");
        var counts = new int[4];
        for (var i = 0; i < 40_000; i++) counts[noise.Perturb(ActionValue.OfDiscrete(2), space, random)!.Discrete![0]]++;
        Assert.Equal(0, counts[2]);
        foreach (var k in new[] { 0, 1, 3 }) Assert.InRange(counts[k], 40_000 / 3 - 600, 40_000 / 3 + 600);
        Assert.Null(noise.Perturb(ActionValue.OfDiscrete(0), ActionSpace.Discrete("only"), random));

        var continuous = ActionSpace.Continuous("x", "y");
        var deltas = new List<double>();
        for (var i = 0; i < 20_000; i++)
        {
            var v = noise.Perturb(ActionValue.OfContinuous(0f, 0.95f), continuous, random)!.Continuous!;
            Assert.InRange(v[1], -1f, 1f);
            deltas.Add(v[0]);
        }
        var mean = deltas.Average();
        var std = Math.Sqrt(deltas.Average(d => (d - mean) * (d - mean)));
        Assert.InRange(mean, -0.01, 0.01);
        Assert.InRange(std, ActionNoise.DefaultContinuousStd * 0.97, ActionNoise.DefaultContinuousStd * 1.03);
    }

    [Fact]
    public void Open_loop_experts_and_out_of_range_noise_are_refused()
    {
        var sokoban = Fixtures.Create("sokoban");
        Assert.False(EnvRegistry.Expert("sokoban").IsClosedLoop);
        var e = Assert.Throws<ArgumentException>(() => Rollouts.Collect(sokoban, EnvRegistry.Expert("sokoban"), 1, 0, "sokoban", new ActionNoise(0.1)));
        Assert.Contains("action noise must be 0 for SokobanExpert", e.Message);
        Assert.Single(Rollouts.Collect(sokoban, EnvRegistry.Expert("sokoban"), 1, 0, "sokoban", ActionNoise.None));
        foreach (var bad in new[] { -0.1, 1.0, double.NaN })
            Assert.Contains("action noise probability must be in [0, 1)", Assert.Throws<ArgumentException>(() => new ActionNoise(bad).Validate()).Message);
        Assert.Contains("continuous std must be in (0, 2]", Assert.Throws<ArgumentException>(() => new ActionNoise(0.1, 0).Validate()).Message);
        foreach (var name in EnvRegistry.Names) Assert.Equal(name != "sokoban", EnvRegistry.Expert(name).IsClosedLoop);
    }

    private static string Show(Timestep t) =>
        $"{string.Join(",", t.Action?.Discrete ?? [])}|{string.Join(",", (t.Action?.Continuous ?? []).Select(v => v.ToString("R")))}|{t.Reward:R}|{t.ActionScored}";
}
