
using Generalist.Episodes;

namespace Generalist.Envs;

/// <summary>Return statistics of a set of episodes (population standard deviation).</summary>
public sealed record RolloutSummary(int Episodes, double MeanReturn, double StdReturn, double MeanLength)
{
    public static RolloutSummary Of(IReadOnlyList<Episode> episodes) =>
        Of(episodes.Select(e => (double)e.Return).ToArray(), episodes.Select(e => e.Timesteps.Count).ToArray());

    public static RolloutSummary Of(IReadOnlyList<double> returns, IReadOnlyList<int> lengths)
    {
        if (returns.Count == 0) return new RolloutSummary(0, double.NaN, double.NaN, double.NaN);
        var mean = returns.Average();
        var std = Math.Sqrt(returns.Sum(r => (r - mean) * (r - mean)) / returns.Count);
        return new RolloutSummary(returns.Count, mean, std, lengths.Average());
    }
}

/// <summary>
/// Runs a policy in an environment and records episodes: one timestep per action, holding the
/// observation the action was chosen from, the action and the reward it earned. Episode i is reset
/// with seed + i and the policy is told that seed, so a rollout is reproducible.
/// With <see cref="ActionNoise"/>, each step's action is, with the noise's probability, a
/// perturbation of the policy's: the timestep records the action executed, with
/// <see cref="Timestep.ActionScored"/> = false. The perturbations are drawn from a stream of their
/// own seeded by the episode seed, so they are reproducible too, and a zero probability gives
/// exactly the episodes collected without noise.
/// </summary>
public static class Rollouts
{
    public static IReadOnlyList<Episode> Collect(IEnvironment env, IPolicy policy, int episodes, long seed, string task) =>
        Collect(env, policy, episodes, seed, task, ActionNoise.None);

    /// <summary>As <see cref="Collect(IEnvironment, IPolicy, int, long, string)"/>, executing perturbed actions with <paramref name="noise"/>.</summary>
    public static IReadOnlyList<Episode> Collect(IEnvironment env, IPolicy policy, int episodes, long seed, string task, ActionNoise noise)
    {
        if (episodes < 0) throw new ArgumentException($"episodes must be >= 0 (got {episodes})");
        CheckNoise(env.Spec, policy, noise);
        var result = new List<Episode>(episodes);
        for (var i = 0; i < episodes; i++)
        {
            var steps = new List<Timestep>();
            Play(env, policy, seed + i, noise, (obs, action, reward, scored) => steps.Add(new Timestep(obs, action, reward, scored)));
            result.Add(new Episode(task, steps));
        }
        return result;
    }

    private static void CheckNoise(EnvSpec spec, IPolicy policy, ActionNoise noise)
    {
        ArgumentNullException.ThrowIfNull(noise);
        noise.Validate();
        if (!noise.IsNone && !policy.IsClosedLoop)
            throw new ArgumentException($"{spec.Name}: action noise must be 0 for {policy.GetType().Name}, which replays a fixed plan instead of acting from the state (got {noise.Probability})");
    }

    /// <summary>
    /// The summary of the same episodes as <see cref="Collect(IEnvironment, IPolicy, int, long, string)"/> without keeping them: memory stays
    /// flat however many pixel observations the episodes hold.
    /// </summary>
    public static RolloutSummary Evaluate(IEnvironment env, IPolicy policy, int episodes, long seed)
    {
        if (episodes < 0) throw new ArgumentException($"episodes must be >= 0 (got {episodes})");
        var returns = new double[episodes];
        var lengths = new int[episodes];
        for (var i = 0; i < episodes; i++)
        {
            double total = 0; // summed in double and rounded to float, as Episode.Return's LINQ Sum does
            var length = 0;
            Play(env, policy, seed + i, ActionNoise.None, (_, _, reward, _) => { total += reward; length++; });
            returns[i] = (float)total;
            lengths[i] = length;
        }
        return RolloutSummary.Of(returns, lengths);
    }

    private static void Play(IEnvironment env, IPolicy policy, long episodeSeed, ActionNoise noise, Action<Observation, ActionValue, float, bool> record)
    {
        policy.BeginEpisode(episodeSeed);
        var observation = env.Reset(episodeSeed);
        var random = noise.IsNone ? null : ActionNoise.StreamFor(episodeSeed);
        while (true)
        {
            var (action, scored) = Choose(policy, observation, env, noise, random);
            var step = env.Step(action);
            record(observation, action, step.Reward, scored);
            if (step.Done) return;
            observation = step.Observation;
        }
    }

    /// <summary>The policy's action, or with the noise's probability a perturbation of it (then not scored).</summary>
    private static (ActionValue Action, bool Scored) Choose(IPolicy policy, Observation observation, IEnvironment env, ActionNoise noise, EnvRandom? random)
    {
        // The policy is asked every step, perturbed or not, so its own state (if any) sees every step.
        var action = policy.Act(observation, env);
        if (random is null || random.NextDouble() >= noise.Probability) return (action, true);
        var perturbed = noise.Perturb(action, env.Spec.Action, random);
        // Clipping can turn a perturbation of a saturated continuous action back into the
        // expert's own action: then nothing was perturbed and the step stays scored.
        if (perturbed is null || (perturbed.Continuous is { } c && c.AsSpan().SequenceEqual(action.Continuous))) return (action, true);
        return (perturbed, false);
    }

    /// <summary>
    /// The same episodes as <see cref="Collect(IEnvironment, IPolicy, int, long, string)"/> (same seeds, same order), stepped together in a
    /// <see cref="VectorEnv"/>: copy k plays episodes k, k + n, k + 2n, ... The policy is called
    /// once per copy per step, and must not share per-episode state between copies (the experts
    /// and <see cref="RandomPolicy"/> keep none beyond the episode seed; pass one policy per copy
    /// via <paramref name="policies"/> when it does). With <paramref name="noise"/> the episodes
    /// are those of <see cref="Collect(IEnvironment, IPolicy, int, long, string, ActionNoise)"/>.
    /// </summary>
    public static IReadOnlyList<Episode> CollectBatched(VectorEnv envs, Func<int, IPolicy> policies, int episodes, long seed, string task, ActionNoise? noise = null)
    {
        if (episodes < 0) throw new ArgumentException($"episodes must be >= 0 (got {episodes})");
        noise ??= ActionNoise.None;
        var n = envs.Count;
        var perCopy = Enumerable.Range(0, n).Select(policies).ToArray();
        foreach (var p in perCopy) CheckNoise(envs.Spec, p, noise);
        var streams = new EnvRandom?[n];
        var scored = new bool[n];
        var result = new Episode?[episodes];
        var current = new int[n];
        var steps = new List<Timestep>[n];
        var observations = new Observation[n];
        var actions = new ActionValue?[n];
        var next = 0;
        for (var k = 0; k < n; k++) Start(k);
        while (current.Any(e => e >= 0))
        {
            for (var k = 0; k < n; k++)
            {
                if (current[k] < 0) { actions[k] = null; continue; }
                (actions[k], scored[k]) = Choose(perCopy[k], observations[k], envs[k], noise, streams[k]);
            }
            var step = envs.Step(actions);
            for (var k = 0; k < n; k++)
            {
                if (current[k] < 0) continue;
                steps[k].Add(new Timestep(observations[k], actions[k], step.Rewards[k], scored[k]));
                observations[k] = step.Observations[k];
                if (!step.Terminated[k] && !step.Truncated[k]) continue;
                result[current[k]] = new Episode(task, steps[k]);
                Start(k);
            }
        }
        return result.Select(e => e!).ToArray();

        void Start(int k)
        {
            if (next >= episodes) { current[k] = -1; return; }
            current[k] = next++;
            var episodeSeed = seed + current[k];
            perCopy[k].BeginEpisode(episodeSeed);
            observations[k] = envs.ResetAt(k, episodeSeed);
            streams[k] = noise.IsNone ? null : ActionNoise.StreamFor(episodeSeed);
            steps[k] = [];
        }
    }
}
