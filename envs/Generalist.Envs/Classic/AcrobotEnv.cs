
using Generalist.Episodes;

namespace Generalist.Envs;

/// <summary>
/// Gym's Acrobot-v1: two links hanging down, torque only at the elbow; swing the tip above the
/// line one link length above the base. Sutton and Barto's "book" dynamics integrated with one
/// fourth-order Runge-Kutta step of dt = 0.2 s, angles wrapped to [-pi, pi), velocities clipped.
/// Reward -1 per step and 0 on the terminating step; truncation at 500 steps.
/// </summary>
public sealed class AcrobotEnv : EnvironmentBase
{
    public const double Dt = 0.2, LinkLength1 = 1.0, LinkMass1 = 1.0, LinkMass2 = 1.0, LinkCom1 = 0.5, LinkCom2 = 0.5, LinkMoi = 1.0, G = 9.8;
    public const double MaxVel1 = 4 * Math.PI, MaxVel2 = 9 * Math.PI;

    private static readonly EnvSpec TheSpec = new(
        "acrobot",
        "Swing a two-link pendulum with an elbow motor so its tip rises above a line (Gym Acrobot-v1 dynamics).",
        new ObservationLayout()
            .Continuous("cos_theta1", -1, 1, "cosine of the shoulder angle (0 = hanging down)")
            .Continuous("sin_theta1", -1, 1, "sine of the shoulder angle")
            .Continuous("cos_theta2", -1, 1, "cosine of the elbow angle relative to link 1")
            .Continuous("sin_theta2", -1, 1, "sine of the elbow angle")
            .Continuous("theta1_velocity", -MaxVel1, MaxVel1, "shoulder angular velocity (rad/s)")
            .Continuous("theta2_velocity", -MaxVel2, MaxVel2, "elbow angular velocity (rad/s)")
            .Build(),
        ActionSpace.Discrete("torque -1", "torque 0", "torque +1"),
        500);

    public override EnvSpec Spec => TheSpec;

    /// <summary>(theta1, theta2, theta1_dot, theta2_dot).</summary>
    public double[] State { get; private set; } = new double[4];

    public void SetState(double theta1, double theta2, double dTheta1, double dTheta2) => State = [theta1, theta2, dTheta1, dTheta2];

    /// <summary>Height of the tip above the base in link lengths; the task ends when it exceeds 1.</summary>
    public double TipHeight => -Math.Cos(State[0]) - Math.Cos(State[1] + State[0]);

    protected override void ResetState(EnvRandom random) =>
        State = [random.Uniform(-0.1, 0.1), random.Uniform(-0.1, 0.1), random.Uniform(-0.1, 0.1), random.Uniform(-0.1, 0.1)];

    protected override (float Reward, bool Terminated) Advance(ActionValue action)
    {
        var torque = action.Discrete![0] - 1.0;
        var s = Rk4(State, torque, Dt);
        s[0] = Wrap(s[0]);
        s[1] = Wrap(s[1]);
        s[2] = Math.Clamp(s[2], -MaxVel1, MaxVel1);
        s[3] = Math.Clamp(s[3], -MaxVel2, MaxVel2);
        State = s;
        var terminated = TipHeight > 1.0;
        return (terminated ? 0f : -1f, terminated);
    }

    protected override Observation Observe() => new(Continuous:
    [
        (float)Math.Cos(State[0]), (float)Math.Sin(State[0]), (float)Math.Cos(State[1]), (float)Math.Sin(State[1]),
        (float)State[2], (float)State[3],
    ]);

    /// <summary>One classic RK4 step of size dt with the torque held constant.</summary>
    public static double[] Rk4(double[] s, double torque, double dt)
    {
        var k1 = Derivatives(s, torque);
        var k2 = Derivatives(Add(s, k1, dt / 2), torque);
        var k3 = Derivatives(Add(s, k2, dt / 2), torque);
        var k4 = Derivatives(Add(s, k3, dt), torque);
        var next = new double[4];
        for (var i = 0; i < 4; i++) next[i] = s[i] + dt / 6.0 * (k1[i] + 2 * k2[i] + 2 * k3[i] + k4[i]);
        return next;
    }

    /// <summary>The equations of motion in the "book" form (Sutton and Barto), as Gym writes them.</summary>
    public static double[] Derivatives(double[] s, double torque)
    {
        double theta1 = s[0], theta2 = s[1], dtheta1 = s[2], dtheta2 = s[3];
        const double m1 = LinkMass1, m2 = LinkMass2, l1 = LinkLength1, lc1 = LinkCom1, lc2 = LinkCom2, i1 = LinkMoi, i2 = LinkMoi;
        var d1 = m1 * lc1 * lc1 + m2 * (l1 * l1 + lc2 * lc2 + 2 * l1 * lc2 * Math.Cos(theta2)) + i1 + i2;
        var d2 = m2 * (lc2 * lc2 + l1 * lc2 * Math.Cos(theta2)) + i2;
        var phi2 = m2 * lc2 * G * Math.Cos(theta1 + theta2 - Math.PI / 2);
        var phi1 = -m2 * l1 * lc2 * dtheta2 * dtheta2 * Math.Sin(theta2)
                   - 2 * m2 * l1 * lc2 * dtheta2 * dtheta1 * Math.Sin(theta2)
                   + (m1 * lc1 + m2 * l1) * G * Math.Cos(theta1 - Math.PI / 2) + phi2;
        var ddtheta2 = (torque + d2 / d1 * phi1 - m2 * l1 * lc2 * dtheta1 * dtheta1 * Math.Sin(theta2) - phi2)
                       / (m2 * lc2 * lc2 + i2 - d2 * d2 / d1);
        var ddtheta1 = -(d2 * ddtheta2 + phi1) / d1;
        return [dtheta1, dtheta2, ddtheta1, ddtheta2];
    }

    private static double[] Add(double[] s, double[] k, double h) => [s[0] + h * k[0], s[1] + h * k[1], s[2] + h * k[2], s[3] + h * k[3]];

    /// <summary>Wraps an angle into [-pi, pi) as Gym's wrap does.</summary>
    public static double Wrap(double x)
    {
        const double m = -Math.PI, big = Math.PI, diff = big - m;
        while (x > big) x -= diff;
        while (x < m) x += diff;
        return x;
    }
}

/// <summary>
/// Energy pumping for the acrobot: apply the elbow torque in the direction the elbow is turning,
/// so the motor's power tau * theta2_dot is never negative and every step adds energy until the
/// tip clears the line. (A PD law tracking Spong's folding reference did worse with only three
/// torque levels.)
/// </summary>
public sealed class AcrobotExpert : ExpertPolicy<AcrobotEnv>
{
    protected override ActionValue Act(AcrobotEnv env) => ActionValue.OfDiscrete(env.State[3] > 0 ? 2 : 0);
}
