using Generalist.Envs;
using Generalist.Episodes;

namespace Generalist.Envs.Tests;

/// <summary>Each step is compared with the published equations, written out again here independently.</summary>
public class PhysicsTests
{
    [Fact]
    public void Cartpole_step_matches_the_gym_euler_update()
    {
        var env = new CartPoleEnv();
        env.Reset(0);
        double x = 0.01, xd = -0.2, th = 0.05, thd = 0.3;
        env.SetState(x, xd, th, thd);
        foreach (var a in new[] { 1, 0, 1, 1 })
        {
            // Gym CartPole-v1, "euler" kinematics.
            var f = a == 1 ? 10.0 : -10.0;
            var temp = (f + 0.05 * thd * thd * Math.Sin(th)) / 1.1;
            var thacc = (9.8 * Math.Sin(th) - Math.Cos(th) * temp) / (0.5 * (4.0 / 3.0 - 0.1 * Math.Cos(th) * Math.Cos(th) / 1.1));
            var xacc = temp - 0.05 * thacc * Math.Cos(th) / 1.1;
            (x, xd, th, thd) = (x + 0.02 * xd, xd + 0.02 * xacc, th + 0.02 * thd, thd + 0.02 * thacc);
            var step = env.Step(ActionValue.OfDiscrete(a));
            Assert.Equal(1f, step.Reward);
            Assert.Equal([(float)x, (float)xd, (float)th, (float)thd], step.Observation.Continuous!);
        }
    }

    [Fact]
    public void Cartpole_terminates_past_twelve_degrees()
    {
        var env = new CartPoleEnv();
        env.Reset(0);
        env.SetState(0, 0, 0.2094, 2.0); // theta crosses 12 degrees (0.20944 rad) in this step
        Assert.True(env.Step(ActionValue.OfDiscrete(1)).Terminated);
    }

    [Fact]
    public void Mountaincar_step_matches_gym_including_the_left_wall()
    {
        var env = new MountainCarEnv();
        env.Reset(0);
        env.SetState(-0.5, 0.01);
        var step = env.Step(ActionValue.OfDiscrete(2));
        var v = 0.01 + 0.001 + Math.Cos(3 * -0.5) * -0.0025;
        Assert.Equal([(float)(-0.5 + v), (float)v], step.Observation.Continuous!);
        Assert.Equal(-1f, step.Reward);

        env.SetState(-1.19, -0.05); // hits the wall at -1.2: velocity is zeroed
        step = env.Step(ActionValue.OfDiscrete(0));
        Assert.Equal([-1.2f, 0f], step.Observation.Continuous!);

        env.SetState(0.49, 0.02);
        Assert.True(env.Step(ActionValue.OfDiscrete(2)).Terminated);
    }

    [Fact]
    public void Pendulum_step_matches_gym_and_the_cost()
    {
        var env = new PendulumEnv();
        env.Reset(0);
        env.SetState(3.0, -1.5);
        var step = env.Step(ActionValue.OfContinuous(0.5f));
        var u = 1.0;
        var thd = -1.5 + (15.0 * Math.Sin(3.0) + 3.0 * u) * 0.05;
        var th = 3.0 + thd * 0.05;
        Assert.Equal([(float)Math.Cos(th), (float)Math.Sin(th), (float)thd], step.Observation.Continuous!);
        Assert.Equal((float)-(3.0 * 3.0 + 0.1 * 1.5 * 1.5 + 0.001 * u * u), step.Reward, 5);

        env.SetState(0.1, 7.9); // the speed is clipped at 8
        Assert.Equal(8f, env.Step(ActionValue.OfContinuous(1f)).Observation.Continuous![2]);
    }

    [Fact]
    public void Acrobot_rk4_step_agrees_with_a_fine_integration_and_conserves_energy_without_torque()
    {
        var s0 = new[] { 0.6, -0.4, 0.5, -0.8 };
        var coarse = AcrobotEnv.Rk4(s0, 1.0, 0.2);
        var fine = s0;
        for (var i = 0; i < 2000; i++) fine = AcrobotEnv.Rk4(fine, 1.0, 0.2 / 2000);
        for (var i = 0; i < 4; i++) Assert.Equal(fine[i], coarse[i], 2);

        // Mechanical energy of the two-link pendulum (unit masses and lengths, centres at 0.5,
        // inertia 1 about the centre), written from first principles: T + V stays constant.
        static double Energy(double[] s)
        {
            double t1 = s[0], t2 = s[1], w1 = s[2], w2 = s[3];
            var v2x = Math.Cos(t1) * w1 + 0.5 * Math.Cos(t1 + t2) * (w1 + w2);
            var v2y = Math.Sin(t1) * w1 + 0.5 * Math.Sin(t1 + t2) * (w1 + w2);
            var kinetic = 0.5 * (0.25 * w1 * w1) + 0.5 * w1 * w1 + 0.5 * (v2x * v2x + v2y * v2y) + 0.5 * (w1 + w2) * (w1 + w2);
            var potential = 9.8 * (-0.5 * Math.Cos(t1)) + 9.8 * (-Math.Cos(t1) - 0.5 * Math.Cos(t1 + t2));
            return kinetic + potential;
        }
        var s = s0;
        for (var i = 0; i < 500; i++) s = AcrobotEnv.Rk4(s, 0.0, 0.01);
        Assert.Equal(Energy(s0), Energy(s), 3);
    }

    [Fact]
    public void Acrobot_env_wraps_angles_and_ends_when_the_tip_clears_the_line()
    {
        var env = new AcrobotEnv();
        env.Reset(0);
        env.SetState(3.1, 0.0, 1.0, 0.0); // near the top, still turning: theta1 wraps past pi
        var step = env.Step(ActionValue.OfDiscrete(1));
        Assert.InRange(env.State[0], -Math.PI, Math.PI);
        Assert.True(step.Terminated);
        Assert.Equal(0f, step.Reward);
    }

    [Fact]
    public void Reacher_accelerations_from_rest_match_the_inverse_inertia_of_a_straight_rod_arm()
    {
        // Straight arm (q2 = 0), at rest: two uniform rods of mass m and length l. The inertia
        // about the shoulder is m l^2/3 + (m l^2/12 + m (3l/2)^2) = 8/3 m l^2, the coupling
        // m l^2/12 + m (l/2)(3l/2) = 5/6 m l^2, the elbow's m l^2/3.
        double m = ReacherEnv.LinkMass, l = ReacherEnv.LinkLength;
        double m11 = 8.0 / 3 * m * l * l, m12 = 5.0 / 6 * m * l * l, m22 = m * l * l / 3;
        var det = m11 * m22 - m12 * m12;
        var (a1, a2) = ReacherEnv.Accelerations([0.3, 0.0, 0.0, 0.0], 0.1, -0.05);
        Assert.Equal((m22 * 0.1 - m12 * -0.05) / det, a1, 6);
        Assert.Equal((m11 * -0.05 - m12 * 0.1) / det, a2, 6);
    }

    [Fact]
    public void Reacher_fingertip_and_reward_follow_the_geometry()
    {
        var env = new ReacherEnv();
        env.Reset(0);
        env.SetState(Math.PI / 2, 0, 0, 0, 0.1, 0.1);
        var (fx, fy) = env.Fingertip;
        Assert.Equal(0, fx, 9);
        Assert.Equal(0.2, fy, 9);
        var step = env.Step(ActionValue.OfContinuous(0f, 0f));
        Assert.Equal((float)-Math.Sqrt(0.1 * 0.1 + 0.1 * 0.1), step.Reward, 5); // no torque: the arm stays put
        step = env.Step(ActionValue.OfContinuous(1f, -1f));
        Assert.True(step.Reward < -Math.Sqrt(0.02) - 0.19, "control cost 0.1 * |a|^2 = 0.2 is charged");
    }

    [Fact]
    public void Catch_scores_plus_one_under_the_ball_and_minus_one_elsewhere()
    {
        var env = new CatchEnv();
        for (long seed = 0; seed < 20; seed++)
        {
            env.Reset(seed);
            var column = env.Ball.Column;
            StepResult step;
            do step = env.Step(ActionValue.OfDiscrete(1)); while (!step.Done); // paddle stays in the middle
            Assert.Equal(column == CatchEnv.Columns / 2 ? 1f : -1f, step.Reward);
            Assert.Equal(CatchEnv.Rows - 1, env.StepCount);
        }
    }

    [Fact]
    public void Catch_renders_the_ball_and_paddle_where_they_are()
    {
        var env = new CatchEnv();
        var img = env.Reset(3).Image!;
        Assert.Equal((16, 16, 1), (img.Height, img.Width, img.Channels));
        var (row, col) = env.Ball;
        Assert.Equal(255, img[row * 2 + 1, col * 2 + 1, 0]);
        Assert.Equal(160, img[15, env.Paddle * 2, 0]);
        Assert.Equal(2 * 2 * 2, img.Pixels.Count(p => p != 0)); // one ball and one paddle cell, nothing else
    }

    [Fact]
    public void Gridnav_mission_names_the_target_and_walls_block()
    {
        var env = new GridNavEnv();
        for (long seed = 0; seed < 30; seed++)
        {
            var obs = env.Reset(seed);
            var code = env[env.TargetCell.Row, env.TargetCell.Column];
            var kind = (code - GridNavEnv.FirstObject) / GridNavEnv.Colors.Length;
            var color = (code - GridNavEnv.FirstObject) % GridNavEnv.Colors.Length;
            Assert.Equal($"go to the {GridNavEnv.Colors[color]} {GridNavEnv.Kinds[kind]}", obs.Text);
            Assert.Single(obs.Discrete!, v => v == code); // the named object is unique
            Assert.Single(obs.Discrete!, v => v == GridNavEnv.Agent);
        }
        // Walking into the border wall leaves the agent in place.
        env.Reset(1);
        for (var i = 0; i < 10 && env.Running; i++)
        {
            var before = env.AgentCell;
            var step = env.Step(ActionValue.OfDiscrete(0));
            if (!step.Done && before.Row == 1) Assert.Equal(before, env.AgentCell);
        }
    }
}
