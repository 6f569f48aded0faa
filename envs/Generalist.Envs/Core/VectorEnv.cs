
using Generalist.Episodes;

namespace Generalist.Envs;

/// <summary>The outcome of one batched step; entry k belongs to copy k.</summary>
public sealed record VectorStepResult(Observation[] Observations, float[] Rewards, bool[] Terminated, bool[] Truncated);

/// <summary>
/// Many copies of one environment stepped together: an array of actions in, arrays of
/// observations, rewards and end flags out. A copy whose episode has ended (or that was never
/// reset) is idle: its action must be null, it keeps its last observation and reports reward 0
/// and no end flags until <see cref="ResetAt"/> starts it again. Copies step in order on the
/// calling thread unless a degree of parallelism above 1 is given.
/// </summary>
public sealed class VectorEnv : IDisposable
{
    private readonly IEnvironment[] envs;
    private readonly Observation?[] last;
    private readonly bool[] active;
    private readonly ParallelOptions parallel;

    public VectorEnv(IReadOnlyList<IEnvironment> environments, int maxDegreeOfParallelism = 1)
    {
        if (environments.Count == 0) throw new ArgumentException("VectorEnv needs at least one environment");
        if (environments.Select(e => e.Spec.Name).Distinct().Count() != 1)
            throw new ArgumentException("VectorEnv copies must all be the same environment");
        if (maxDegreeOfParallelism < 1) throw new ArgumentException($"maxDegreeOfParallelism must be >= 1 (got {maxDegreeOfParallelism})");
        envs = environments.ToArray();
        last = new Observation?[envs.Length];
        active = new bool[envs.Length];
        parallel = new ParallelOptions { MaxDegreeOfParallelism = maxDegreeOfParallelism };
    }

    /// <summary>Creates <paramref name="count"/> copies with the factory (e.g. <c>() =&gt; EnvRegistry.Create("cartpole")</c>).</summary>
    public static VectorEnv Create(Func<IEnvironment> factory, int count, int maxDegreeOfParallelism = 1)
    {
        if (count is < 1 or > 1_000_000) throw new ArgumentException($"count must be in [1, 1000000] (got {count})");
        return new VectorEnv(Enumerable.Range(0, count).Select(_ => factory()).ToArray(), maxDegreeOfParallelism);
    }

    public int Count => envs.Length;

    public EnvSpec Spec => envs[0].Spec;

    public IEnvironment this[int index] => envs[index];

    /// <summary>Whether copy k is in an episode.</summary>
    public bool IsActive(int index) => active[index];

    /// <summary>Resets every copy: copy k with seed + k.</summary>
    public Observation[] Reset(long seed)
    {
        var result = new Observation[envs.Length];
        for (var k = 0; k < envs.Length; k++) result[k] = ResetAt(k, seed + k);
        return result;
    }

    public Observation ResetAt(int index, long seed)
    {
        var obs = envs[index].Reset(seed);
        last[index] = obs;
        active[index] = true;
        return obs;
    }

    public VectorStepResult Step(IReadOnlyList<ActionValue?> actions)
    {
        if (actions.Count != envs.Length)
            throw new ArgumentException($"{Spec.Name}: got {actions.Count} actions for {envs.Length} copies");
        var observations = new Observation[envs.Length];
        var rewards = new float[envs.Length];
        var terminated = new bool[envs.Length];
        var truncated = new bool[envs.Length];
        if (parallel.MaxDegreeOfParallelism == 1)
            for (var k = 0; k < envs.Length; k++) StepOne(k);
        else
            Parallel.For(0, envs.Length, parallel, StepOne);
        return new VectorStepResult(observations, rewards, terminated, truncated);

        void StepOne(int k)
        {
            var action = actions[k];
            if (!active[k])
            {
                if (action is not null)
                    throw new ArgumentException($"{Spec.Name}: copy {k} has no running episode; its action must be null (reset it first)");
                observations[k] = last[k] ?? new Observation();
                return;
            }
            var step = envs[k].Step(action ?? throw new ArgumentException($"{Spec.Name}: copy {k} is running and needs an action ({Spec.Action.Describe()})"));
            observations[k] = step.Observation;
            last[k] = step.Observation;
            rewards[k] = step.Reward;
            terminated[k] = step.Terminated;
            truncated[k] = step.Truncated;
            if (step.Done) active[k] = false;
        }
    }

    public void Dispose()
    {
        foreach (var e in envs) (e as IDisposable)?.Dispose();
    }
}
