using Generalist.Tokenizers;

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
    public ActionValue Act(Observation observation, IEnvironment env) =>
        Act(env as TEnv ?? throw new ArgumentException(
            $"{GetType().Name} drives {typeof(TEnv).Name}, not {env.GetType().Name} ({env.Spec.Name})"));

    protected abstract ActionValue Act(TEnv env);
}
