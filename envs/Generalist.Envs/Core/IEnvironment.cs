
using Generalist.Episodes;

namespace Generalist.Envs;

/// <summary>The result of one step: the next observation, the reward for the action, and whether the episode ended.</summary>
public sealed record StepResult(Observation Observation, float Reward, bool Terminated, bool Truncated)
{
    public bool Done => Terminated || Truncated;
}

/// <summary>
/// A simulated environment. Deterministic: the same seed and the same actions give the same
/// observations and rewards. Terminated means the task ended (success or failure); Truncated
/// means the spec's step limit was hit. Stepping a finished or never-reset environment throws
/// InvalidOperationException; an action outside the spec throws ArgumentException.
/// </summary>
public interface IEnvironment
{
    EnvSpec Spec { get; }
    Observation Reset(long seed);
    StepResult Step(ActionValue action);
}

/// <summary>
/// Shared bookkeeping of every environment here: action validation, the step counter, the step
/// limit and the "reset before step" rule. Subclasses only write their dynamics.
/// </summary>
public abstract class EnvironmentBase : IEnvironment
{
    private bool running;

    public abstract EnvSpec Spec { get; }

    /// <summary>Steps taken in the current episode.</summary>
    public int StepCount { get; private set; }

    /// <summary>True between Reset and the step that ends the episode.</summary>
    public bool Running => running;

    /// <summary>The seed the current episode was reset with.</summary>
    protected long EpisodeSeed { get; private set; }

    public Observation Reset(long seed)
    {
        StepCount = 0;
        EpisodeSeed = seed;
        ResetState(new EnvRandom(seed));
        running = true;
        return Observe();
    }

    public StepResult Step(ActionValue action)
    {
        if (!running)
            throw new InvalidOperationException($"{Spec.Name}: call Reset before Step (the episode has ended or never began)");
        Spec.Action.Validate(Spec.Name, action);
        var (reward, terminated) = Advance(action);
        StepCount++;
        var truncated = !terminated && StepCount >= Spec.MaxSteps;
        if (terminated || truncated) running = false;
        return new StepResult(Observe(), reward, terminated, truncated);
    }

    /// <summary>Sets the initial state, drawing every random choice from <paramref name="random"/>.</summary>
    protected abstract void ResetState(EnvRandom random);

    /// <summary>Applies a validated action; returns the reward and whether the task ended.</summary>
    protected abstract (float Reward, bool Terminated) Advance(ActionValue action);

    protected abstract Observation Observe();
}
