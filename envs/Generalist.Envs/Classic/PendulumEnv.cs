
using Generalist.Episodes;

namespace Generalist.Envs;

/// <summary>
/// Gym's Pendulum-v1: swing a pendulum up and hold it upright with a limited motor. theta = 0 is
/// upright; the action in [-1, 1] is scaled to a torque in [-2, 2]. Cost per step
/// theta^2 + 0.1 theta_dot^2 + 0.001 u^2 (reward is its negative); truncation at 200 steps; start
/// theta uniform in [-pi, pi], theta_dot in [-1, 1].
/// </summary>
public sealed class PendulumEnv : EnvironmentBase
{
    public const double MaxSpeed = 8, MaxTorque = 2, Dt = 0.05, G = 10.0, Mass = 1.0, Length = 1.0;

    private static readonly EnvSpec TheSpec = new(
        "pendulum",
        "Swing a pendulum upright and balance it with a limited torque (Gym Pendulum-v1 dynamics).",
        new ObservationLayout()
            .Continuous("cos_theta", -1, 1, "cosine of the angle from upright")
            .Continuous("sin_theta", -1, 1, "sine of the angle from upright")
            .Continuous("angular_velocity", -MaxSpeed, MaxSpeed, "angular velocity (rad/s)")
            .Build(),
        ActionSpace.Continuous("torque (x2 N m)"),
        200);

    public override EnvSpec Spec => TheSpec;

    public (double Theta, double ThetaDot) State { get; private set; }

    public void SetState(double theta, double thetaDot) => State = (theta, thetaDot);

    protected override void ResetState(EnvRandom random) => State = (random.Uniform(-Math.PI, Math.PI), random.Uniform(-1, 1));

    protected override (float Reward, bool Terminated) Advance(ActionValue action)
    {
        var (th, thDot) = State;
        var u = Math.Clamp(action.Continuous![0] * MaxTorque, -MaxTorque, MaxTorque);
        var cost = Math.Pow(AngleNormalize(th), 2) + 0.1 * thDot * thDot + 0.001 * u * u;
        var newThDot = thDot + (3 * G / (2 * Length) * Math.Sin(th) + 3.0 / (Mass * Length * Length) * u) * Dt;
        newThDot = Math.Clamp(newThDot, -MaxSpeed, MaxSpeed);
        State = (th + newThDot * Dt, newThDot);
        return ((float)-cost, false);
    }

    protected override Observation Observe() =>
        new(Continuous: [(float)Math.Cos(State.Theta), (float)Math.Sin(State.Theta), (float)State.ThetaDot]);

    /// <summary>Maps an angle into [-pi, pi).</summary>
    public static double AngleNormalize(double x) => ((x + Math.PI) % (2 * Math.PI) + 2 * Math.PI) % (2 * Math.PI) - Math.PI;
}

/// <summary>
/// Energy-shaping swing-up plus a PD (LQR-like) balance near the top. With u = 0 the quantity
/// E = theta_dot^2 / 2 + 15 cos(theta) is conserved (the dynamics are theta_ddot = 15 sin(theta)
/// + 3 u); upright at rest has E = 15. Far from the top the torque pumps E toward that value;
/// near the top a PD law holds the pendulum.
/// </summary>
public sealed class PendulumExpert : ExpertPolicy<PendulumEnv>
{
    private const double A = 3 * PendulumEnv.G / (2 * PendulumEnv.Length), B = 3.0 / (PendulumEnv.Mass * PendulumEnv.Length * PendulumEnv.Length);

    protected override ActionValue Act(PendulumEnv env)
    {
        var th = PendulumEnv.AngleNormalize(env.State.Theta);
        var thDot = env.State.ThetaDot;
        double torque;
        if (Math.Abs(th) < 0.6 && Math.Abs(thDot) < 4)
        {
            torque = -(12.0 * th + 2.5 * thDot);
        }
        else
        {
            var energy = 0.5 * thDot * thDot + A * Math.Cos(th);
            var pump = (A - energy) * thDot;
            torque = Math.Abs(pump) < 1e-9 ? PendulumEnv.MaxTorque : 2.0 * pump / B;
        }
        return ActionValue.OfContinuous((float)Math.Clamp(torque / PendulumEnv.MaxTorque, -1, 1));
    }
}
