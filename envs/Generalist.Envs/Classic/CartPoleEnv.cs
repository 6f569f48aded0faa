
using Generalist.Episodes;

namespace Generalist.Envs;

/// <summary>
/// Cart-pole balancing with the dynamics, constants, termination and reward of Gym's
/// CartPole-v1 (Barto, Sutton and Anderson 1983; explicit Euler, tau = 0.02 s): reward 1 for
/// every step including the last, termination when |x| > 2.4 or |theta| > 12 degrees,
/// truncation at 500 steps. State in double precision, observed as floats.
/// </summary>
public sealed class CartPoleEnv : EnvironmentBase
{
    public const double Gravity = 9.8, MassCart = 1.0, MassPole = 0.1, HalfLength = 0.5, ForceMag = 10.0, Tau = 0.02;
    public const double ThetaThreshold = 12 * 2 * Math.PI / 360, XThreshold = 2.4;
    private const double TotalMass = MassCart + MassPole, PoleMassLength = MassPole * HalfLength;

    private static readonly EnvSpec TheSpec = new(
        "cartpole",
        "Balance a pole on a cart by pushing it left or right (Gym CartPole-v1 dynamics).",
        new ObservationLayout()
            .Continuous("cart_position", -2 * XThreshold, 2 * XThreshold, "cart position x (m)")
            .Continuous("cart_velocity", double.NegativeInfinity, double.PositiveInfinity, "cart velocity (m/s)")
            .Continuous("pole_angle", -2 * ThetaThreshold, 2 * ThetaThreshold, "pole angle from upright (rad)")
            .Continuous("pole_angular_velocity", double.NegativeInfinity, double.PositiveInfinity, "pole angular velocity (rad/s)")
            .Build(),
        ActionSpace.Discrete("push left", "push right"),
        500);

    public override EnvSpec Spec => TheSpec;

    /// <summary>(x, x_dot, theta, theta_dot) of the current state.</summary>
    public (double X, double XDot, double Theta, double ThetaDot) State { get; private set; }

    /// <summary>Sets an exact state (tests and analysis); the episode continues from it.</summary>
    public void SetState(double x, double xDot, double theta, double thetaDot) => State = (x, xDot, theta, thetaDot);

    protected override void ResetState(EnvRandom random) =>
        State = (random.Uniform(-0.05, 0.05), random.Uniform(-0.05, 0.05), random.Uniform(-0.05, 0.05), random.Uniform(-0.05, 0.05));

    protected override (float Reward, bool Terminated) Advance(ActionValue action)
    {
        var (x, xDot, theta, thetaDot) = State;
        var force = action.Discrete![0] == 1 ? ForceMag : -ForceMag;
        var cos = Math.Cos(theta);
        var sin = Math.Sin(theta);
        var temp = (force + PoleMassLength * thetaDot * thetaDot * sin) / TotalMass;
        var thetaAcc = (Gravity * sin - cos * temp) / (HalfLength * (4.0 / 3.0 - MassPole * cos * cos / TotalMass));
        var xAcc = temp - PoleMassLength * thetaAcc * cos / TotalMass;
        x += Tau * xDot;
        xDot += Tau * xAcc;
        theta += Tau * thetaDot;
        thetaDot += Tau * thetaAcc;
        State = (x, xDot, theta, thetaDot);
        var terminated = x < -XThreshold || x > XThreshold || theta < -ThetaThreshold || theta > ThetaThreshold;
        return (1f, terminated);
    }

    protected override Observation Observe() =>
        new(Continuous: [(float)State.X, (float)State.XDot, (float)State.Theta, (float)State.ThetaDot]);
}

/// <summary>
/// A linear state-feedback controller (an LQR-style gain on the linearised cart-pole, hand
/// tuned): push right when the weighted sum of state terms is positive.
/// </summary>
public sealed class CartPoleExpert : ExpertPolicy<CartPoleEnv>
{
    protected override ActionValue Act(CartPoleEnv env)
    {
        var (x, xDot, theta, thetaDot) = env.State;
        var u = 1.0 * x + 1.5 * xDot + 18.0 * theta + 3.0 * thetaDot;
        return ActionValue.OfDiscrete(u > 0 ? 1 : 0);
    }
}
