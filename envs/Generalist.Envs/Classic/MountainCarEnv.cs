
using Generalist.Episodes;

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
        State = Dynamics(State.Position, State.Velocity, action.Discrete![0]);
        return (-1f, ReachesGoal(State.Position, State.Velocity));
    }

    /// <summary>One step of the dynamics from (position, velocity) under action 0, 1 or 2 (left, coast, right).</summary>
    public static (double Position, double Velocity) Dynamics(double position, double velocity, int action)
    {
        velocity += (action - 1) * Force + Math.Cos(3 * position) * -Gravity;
        velocity = Math.Clamp(velocity, -MaxSpeed, MaxSpeed);
        position += velocity;
        position = Math.Clamp(position, MinPosition, MaxPosition);
        if (position == MinPosition && velocity < 0) velocity = 0;
        return (position, velocity);
    }

    /// <summary>The termination test after a step.</summary>
    public static bool ReachesGoal(double position, double velocity) => position >= GoalPosition && velocity >= 0;

    protected override Observation Observe() => new(Continuous: [(float)State.Position, (float)State.Velocity]);
}

/// <summary>
/// Energy pumping improved by one step of lookahead. The base policy pumps: accelerate in the
/// direction of motion, which adds mechanical energy every step (from rest it pushes toward the
/// nearer wall). Pumping alone averages about -133 because its first push and its turning points
/// are not the quickest; so at every step the expert tries each of the three actions, follows the
/// pumping policy from the resulting state on an exact copy of the dynamics, and takes the action
/// that reaches the flag in the fewest steps (ties go to the pumping action, then left, coast,
/// right). It reads only the current state, so after a perturbation it plans again from where the
/// car really is. Version 2 (version 1 was the plain pumping policy).
/// </summary>
public sealed class MountainCarExpert : ExpertPolicy<MountainCarEnv>
{
    public override int Version => 2;

    protected override ActionValue Act(MountainCarEnv env)
    {
        var (position, velocity) = env.State;
        var horizon = env.Spec.MaxSteps - env.StepCount;
        var pump = Pump(position, velocity);
        var best = pump;
        var bestSteps = StepsToGoal(position, velocity, pump, horizon);
        for (var a = 0; a < 3; a++)
        {
            if (a == pump) continue;
            var steps = StepsToGoal(position, velocity, a, horizon);
            if (steps < bestSteps) (best, bestSteps) = (a, steps);
        }
        return ActionValue.OfDiscrete(best);
    }

    /// <summary>The pumping action: along the velocity; at rest, toward the valley's nearer wall (left of -0.52).</summary>
    public static int Pump(double position, double velocity) => velocity > 0 || (velocity == 0 && position > -0.52) ? 2 : 0;

    /// <summary>Steps until the goal when taking <paramref name="first"/> and then pumping; int.MaxValue if not within the horizon.</summary>
    private static int StepsToGoal(double position, double velocity, int first, int horizon)
    {
        var action = first;
        for (var t = 1; t <= horizon; t++)
        {
            (position, velocity) = MountainCarEnv.Dynamics(position, velocity, action);
            if (MountainCarEnv.ReachesGoal(position, velocity)) return t;
            action = Pump(position, velocity);
        }
        return int.MaxValue;
    }
}
