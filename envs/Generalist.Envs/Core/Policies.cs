
using Generalist.Episodes;

namespace Generalist.Envs;

/// <summary>
/// Chooses an action from the observation. The environment is passed too so that a scripted
/// expert can read the simulator's exact state (as Gato's data-generating experts could); learned
/// policies use only the observation.
/// </summary>
public interface IPolicy
{
    ActionValue Act(Observation observation, IEnvironment env);

    /// <summary>Called before each episode with that episode's seed, so stochastic policies are reproducible.</summary>
    void BeginEpisode(long seed) { }

    /// <summary>
    /// True when the action is a function of the environment's current state, so that after
    /// someone else's action (a perturbation, <see cref="ActionNoise"/>) the policy acts correctly
    /// from where the environment really is. False for an open-loop plan (the Sokoban expert
    /// replays a fixed move list); such a policy must not be collected with action noise.
    /// </summary>
    bool IsClosedLoop => true;

    /// <summary>Bumped whenever the policy's behaviour changes, so data cached from an older version is rebuilt.</summary>
    int Version => 1;
}

/// <summary>Uniformly random actions over the env's action space; reseeded per episode.</summary>
public sealed class RandomPolicy(long seed) : IPolicy
{
    private EnvRandom random = new(seed);

    public void BeginEpisode(long episodeSeed) => random = new EnvRandom(EnvRandom.Derive(seed, episodeSeed));

    public ActionValue Act(Observation observation, IEnvironment env)
    {
        var space = env.Spec.Action;
        if (space.IsDiscrete) return ActionValue.OfDiscrete(random.Next(space.Choices));
        var values = new float[space.Dimensions];
        for (var i = 0; i < values.Length; i++) values[i] = (float)random.Uniform(-1, 1);
        return ActionValue.OfContinuous(values);
    }
}

/// <summary>A scripted expert for one environment type; reads that environment's state.</summary>
public abstract class ExpertPolicy<TEnv> : IPolicy where TEnv : class, IEnvironment
{
    /// <inheritdoc cref="IPolicy.IsClosedLoop"/>
    public virtual bool IsClosedLoop => true;

    /// <inheritdoc cref="IPolicy.Version"/>
    public virtual int Version => 1;

    public ActionValue Act(Observation observation, IEnvironment env) =>
        Act(env as TEnv ?? throw new ArgumentException(
            $"{GetType().Name} drives {typeof(TEnv).Name}, not {env.GetType().Name} ({env.Spec.Name})"));

    protected abstract ActionValue Act(TEnv env);
}

/// <summary>The scripted experts by environment name (the same as <see cref="EnvRegistry.Expert"/>).</summary>
public static class ExpertPolicy
{
    public static IPolicy For(string env) => EnvRegistry.Expert(env);
}
