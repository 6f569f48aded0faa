using Generalist.Tokenizers;

namespace Generalist.Envs;

/// <summary>
/// Gym's MountainCar-v0: an under-powered car in a valley must rock back and forth to reach the
/// flag at x = 0.5. Reward -1 per step, termination at x &gt;= 0.5 (goal velocity 0), truncation
/// at 200 steps; start x uniform in [-0.6, -0.4], velocity 0.
/// </summary>
public sealed class MountainCarEnv : EnvironmentBase
{
    public const double MinPosition = -1.2, MaxPosition = 0.6, MaxSpeed = 0.07, GoalPosition = 0.5, Force = 0.001, Gravity = 0.0025;

    private static readonly EnvSpec TheSpec = new(
        "mountaincar",
        "Drive an under-powered car up a hill by building momentum (Gym MountainCar-v0 dynamics).",
        new ObservationLayout()
            .Continuous("position", MinPosition, MaxPosition, "car position")
            .Continuous("velocity", -MaxSpeed, MaxSpeed, "car velocity")
            .Build(),
        ActionSpace.Discrete("accelerate left", "coast", "accelerate right"),
        200);

    public override EnvSpec Spec => TheSpec;

    public (double Position, double Velocity) State { get; private set; }

    public void SetState(double position, double velocity) => State = (position, velocity);

    protected override void ResetState(EnvRandom random) => State = (random.Uniform(-0.6, -0.4), 0.0);

    protected override (float Reward, bool Terminated) Advance(ActionValue action)
    {
        var (position, velocity) = State;
        velocity += (action.Discrete![0] - 1) * Force + Math.Cos(3 * position) * -Gravity;
        velocity = Math.Clamp(velocity, -MaxSpeed, MaxSpeed);
        position += velocity;
        position = Math.Clamp(position, MinPosition, MaxPosition);
        if (position == MinPosition && velocity < 0) velocity = 0;
        State = (position, velocity);
        return (-1f, position >= GoalPosition && velocity >= 0);
    }

    protected override Observation Observe() => new(Continuous: [(float)State.Position, (float)State.Velocity]);
}

/// <summary>Energy pumping: always accelerate in the direction of motion, which adds mechanical energy every step.</summary>
public sealed class MountainCarExpert : ExpertPolicy<MountainCarEnv>
{
    protected override ActionValue Act(MountainCarEnv env)
    {
        var (position, velocity) = env.State;
        // At rest at the start there is no direction of motion yet: fall back toward the valley's
        // nearer wall (left), which is the shorter way to build speed.
        var right = velocity > 0 || (velocity == 0 && position > -0.52);
        return ActionValue.OfDiscrete(right ? 2 : 0);
    }
}
