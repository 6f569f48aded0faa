
using Generalist.Episodes;

namespace Generalist.Envs;

/// <summary>
/// A planar two-link arm (links of 0.1 m modelled as uniform rods, joints with viscous damping,
/// no gravity: the arm lies on a table) must bring its fingertip to a random target within reach,
/// as in Gym's Reacher. The manipulator equations M(q) q'' + C(q, q') q' + b q' = tau are written
/// here (no physics engine is available), integrated with semi-implicit Euler, 2 substeps of
/// 10 ms per 20 ms step. Reward -|fingertip - target| - 0.1 |a|^2 with a in [-1, 1]; 50 steps.
/// </summary>
public sealed class ReacherEnv : EnvironmentBase
{
    public const double LinkLength = 0.1, LinkMass = 0.1, Damping = 0.01, MaxTorque = 0.2, SubstepDt = 0.01, MaxJointSpeed = 20;
    public const int Substeps = 2;
    private const double Inertia = LinkMass * LinkLength * LinkLength / 12; // rod about its centre
    private const double Com = LinkLength / 2;

    private static readonly EnvSpec TheSpec = new(
        "reacher",
        "Move a planar two-link arm's fingertip to a random target (torque control).",
        new ObservationLayout()
            .Continuous("cos_joints", 2, -1, 1, "cosine of the shoulder and elbow angles")
            .Continuous("sin_joints", 2, -1, 1, "sine of the shoulder and elbow angles")
            .Continuous("target", 2, -0.2, 0.2, "target position (x, y) in m")
            .Continuous("joint_velocities", 2, -MaxJointSpeed, MaxJointSpeed, "shoulder and elbow angular velocities (rad/s)")
            .Continuous("fingertip_minus_target", 2, -0.4, 0.4, "fingertip position minus target (m)")
            .Build(),
        ActionSpace.Continuous("shoulder torque", "elbow torque"),
        50);

    public override EnvSpec Spec => TheSpec;

    /// <summary>Joint angles q1 (shoulder, from the x axis), q2 (elbow, relative to link 1) and their velocities.</summary>
    public double[] Joints { get; private set; } = new double[4];

    public (double X, double Y) Target { get; private set; }

    public (double X, double Y) Fingertip => FingertipOf(Joints[0], Joints[1]);

    public double Distance => Math.Sqrt(Math.Pow(Fingertip.X - Target.X, 2) + Math.Pow(Fingertip.Y - Target.Y, 2));

    public void SetState(double q1, double q2, double dq1, double dq2, double targetX, double targetY)
    {
        Joints = [q1, q2, dq1, dq2];
        Target = (targetX, targetY);
    }

    public static (double X, double Y) FingertipOf(double q1, double q2) =>
        (LinkLength * Math.Cos(q1) + LinkLength * Math.Cos(q1 + q2), LinkLength * Math.Sin(q1) + LinkLength * Math.Sin(q1 + q2));

    protected override void ResetState(EnvRandom random)
    {
        Joints = [random.Uniform(-0.1, 0.1), random.Uniform(-0.1, 0.1), random.Uniform(-0.005, 0.005), random.Uniform(-0.005, 0.005)];
        double x, y;
        do
        {
            x = random.Uniform(-0.2, 0.2);
            y = random.Uniform(-0.2, 0.2);
        }
        while (x * x + y * y >= 0.2 * 0.2 || x * x + y * y < 0.02 * 0.02); // inside reach, not on the shoulder
        Target = (x, y);
    }

    protected override (float Reward, bool Terminated) Advance(ActionValue action)
    {
        var a = action.Continuous!;
        var tau1 = a[0] * MaxTorque;
        var tau2 = a[1] * MaxTorque;
        var s = Joints;
        for (var k = 0; k < Substeps; k++) s = Integrate(s, tau1, tau2, SubstepDt);
        Joints = s;
        var reward = -Distance - 0.1 * (a[0] * a[0] + a[1] * a[1]);
        return ((float)reward, false);
    }

    /// <summary>Joint accelerations of the two-link rod arm (standard manipulator equations).</summary>
    public static (double Ddq1, double Ddq2) Accelerations(double[] s, double tau1, double tau2)
    {
        double q2 = s[1], dq1 = s[2], dq2 = s[3];
        const double l1 = LinkLength, m2 = LinkMass, m1 = LinkMass;
        var c2 = Math.Cos(q2);
        var h = m2 * l1 * Com * Math.Sin(q2);
        var m11 = m1 * Com * Com + Inertia + m2 * (l1 * l1 + Com * Com + 2 * l1 * Com * c2) + Inertia;
        var m12 = m2 * (Com * Com + l1 * Com * c2) + Inertia;
        var m22 = m2 * Com * Com + Inertia;
        // Coriolis and centrifugal terms, then viscous joint damping.
        var r1 = tau1 + h * (2 * dq1 * dq2 + dq2 * dq2) - Damping * dq1;
        var r2 = tau2 - h * dq1 * dq1 - Damping * dq2;
        var det = m11 * m22 - m12 * m12;
        return ((m22 * r1 - m12 * r2) / det, (m11 * r2 - m12 * r1) / det);
    }

    private static double[] Integrate(double[] s, double tau1, double tau2, double dt)
    {
        var (a1, a2) = Accelerations(s, tau1, tau2);
        var dq1 = Math.Clamp(s[2] + dt * a1, -MaxJointSpeed, MaxJointSpeed);
        var dq2 = Math.Clamp(s[3] + dt * a2, -MaxJointSpeed, MaxJointSpeed);
        return [s[0] + dt * dq1, s[1] + dt * dq2, dq1, dq2];
    }

    protected override Observation Observe()
    {
        var (fx, fy) = Fingertip;
        return new(Continuous:
        [
            (float)Math.Cos(Joints[0]), (float)Math.Cos(Joints[1]), (float)Math.Sin(Joints[0]), (float)Math.Sin(Joints[1]),
            (float)Target.X, (float)Target.Y, (float)Joints[2], (float)Joints[3], (float)(fx - Target.X), (float)(fy - Target.Y),
        ]);
    }
}

/// <summary>
/// Inverse kinematics to the joint angles that put the fingertip on the target (choosing the
/// elbow branch nearer the current elbow angle), then a PD law on the joint errors.
/// </summary>
public sealed class ReacherExpert : ExpertPolicy<ReacherEnv>
{
    // Gains on joint-angle errors (rad) and velocities (rad/s), in units of the [-1, 1] action;
    // chosen by a sweep: stiffer gains saturate the torque and pay more control cost.
    public const double Kp = 0.5, Kd = 0.05;

    protected override ActionValue Act(ReacherEnv env)
    {
        var (tx, ty) = env.Target;
        const double l = ReacherEnv.LinkLength;
        var cosElbow = Math.Clamp((tx * tx + ty * ty - 2 * l * l) / (2 * l * l), -1, 1);
        var q = env.Joints;
        var elbow = Math.Acos(cosElbow);
        if (Math.Abs(Wrap(-elbow - q[1])) < Math.Abs(Wrap(elbow - q[1]))) elbow = -elbow;
        var shoulder = Math.Atan2(ty, tx) - Math.Atan2(l * Math.Sin(elbow), l + l * Math.Cos(elbow));
        var u1 = (Kp * Wrap(shoulder - q[0]) - Kd * q[2]);
        var u2 = Kp * Wrap(elbow - q[1]) - Kd * q[3];
        return ActionValue.OfContinuous((float)Math.Clamp(u1, -1, 1), (float)Math.Clamp(u2, -1, 1));
    }

    private static double Wrap(double x) => PendulumEnv.AngleNormalize(x);
}
