using Generalist.Tokenizers;

namespace Generalist.Envs;

/// <summary>Return statistics of a set of episodes (population standard deviation).</summary>
public sealed record RolloutSummary(int Episodes, double MeanReturn, double StdReturn, double MeanLength)
{
    public static RolloutSummary Of(IReadOnlyList<Episode> episodes)
    {
        if (episodes.Count == 0) return new RolloutSummary(0, double.NaN, double.NaN, double.NaN);
        var returns = episodes.Select(e => (double)e.Timesteps.Sum(t => t.Reward)).ToArray();
        var mean = returns.Average();
        var std = Math.Sqrt(returns.Sum(r => (r - mean) * (r - mean)) / returns.Length);
        return new RolloutSummary(episodes.Count, mean, std, episodes.Average(e => e.Timesteps.Count));
    }
}

/// <summary>
/// Runs a policy in an environment and records episodes: one timestep per action, holding the
/// observation the action was chosen from, the action and the reward it earned. Episode i is reset
/// with seed + i and the policy is told that seed, so a rollout is reproducible.
/// </summary>
public static class Rollouts
{
    public static IReadOnlyList<Episode> Collect(IEnvironment env, IPolicy policy, int episodes, long seed, string task)
    {
        if (episodes < 0) throw new ArgumentException($"episodes must be >= 0 (got {episodes})");
        var result = new List<Episode>(episodes);
        for (var i = 0; i < episodes; i++)
        {
            var episodeSeed = seed + i;
            policy.BeginEpisode(episodeSeed);
            var observation = env.Reset(episodeSeed);
            var steps = new List<Timestep>();
            while (true)
            {
                var action = policy.Act(observation, env);
                var step = env.Step(action);
                steps.Add(new Timestep(observation, action, step.Reward));
                if (step.Done) break;
                observation = step.Observation;
            }
            result.Add(new Episode(task, steps));
        }
        return result;
    }

    /// <summary>
    /// The same episodes as <see cref="Collect"/> (same seeds, same order), stepped together in a
    /// <see cref="VectorEnv"/>: copy k plays episodes k, k + n, k + 2n, ... The policy is called
    /// once per copy per step, and must not share per-episode state between copies (the experts
    /// and <see cref="RandomPolicy"/> keep none beyond the episode seed; pass one policy per copy
    /// via <paramref name="policies"/> when it does).
    /// </summary>
    public static IReadOnlyList<Episode> CollectBatched(VectorEnv envs, Func<int, IPolicy> policies, int episodes, long seed, string task)
    {
        if (episodes < 0) throw new ArgumentException($"episodes must be >= 0 (got {episodes})");
        var n = envs.Count;
        var perCopy = Enumerable.Range(0, n).Select(policies).ToArray();
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
                actions[k] = current[k] >= 0 ? perCopy[k].Act(observations[k], envs[k]) : null;
            var step = envs.Step(actions);
            for (var k = 0; k < n; k++)
            {
                if (current[k] < 0) continue;
                steps[k].Add(new Timestep(observations[k], actions[k], step.Rewards[k]));
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
            steps[k] = [];
        }
    }
}
