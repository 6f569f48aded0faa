using Generalist.Envs;
using Generalist.Evaluation.Scoring;
using Generalist.Episodes;

namespace Generalist.Evaluation.Tests;

/// <summary>Expert agreement, action error and unseen observation bins on hand-made states.</summary>
public class ControlDiagnosticsTests
{
    private sealed class NoAnswer : IPolicy
    {
        public ActionValue Act(Observation observation, IEnvironment env) => throw new InvalidOperationException("no move");
    }

    [Fact]
    public void DiscreteAgreementCountsStatesWhereTheModelDidWhatTheExpertWould()
    {
        var env = EnvRegistry.Create("cartpole");
        var expert = EnvRegistry.Expert("cartpole");
        var diagnostics = new ControlDiagnostics(expert, 2, trainingBins: null);
        diagnostics.BeginEpisode(0);
        diagnostics.BeginEpisode(1);
        var obs = env.Reset(1);
        var right = expert.Act(obs, env).Discrete![0];
        diagnostics.Observe(0, obs, env, ActionValue.OfDiscrete(right));
        diagnostics.Observe(0, obs, env, ActionValue.OfDiscrete(1 - right));
        diagnostics.Observe(1, obs, env, ActionValue.OfDiscrete(right));
        diagnostics.Observe(1, obs, env, ActionValue.OfDiscrete(right));
        // Episode 1 is replayed (its batch was split): its first pass must not count.
        diagnostics.BeginEpisode(1);
        diagnostics.Observe(1, obs, env, ActionValue.OfDiscrete(1 - right));
        var metrics = new Dictionary<string, double>();
        diagnostics.AddTo(metrics);
        Assert.Equal(3, metrics["visited_states"]);
        Assert.Equal(1.0 / 3, metrics["expert_agreement"], 12);
        Assert.False(metrics.ContainsKey("action_abs_error"));
        Assert.False(metrics.ContainsKey("unseen_bin_states"));
    }

    [Fact]
    public void ContinuousAgreementIsWithinTheToleranceInEveryDimension()
    {
        var env = new PendulumEnv();
        var obs = env.Reset(3);
        env.SetState(0.05, 0.1);   // near upright: the expert's balancing torque, away from saturation
        var expert = EnvRegistry.Expert("pendulum");
        var target = expert.Act(obs, env).Continuous![0];
        Assert.InRange(target, -0.9f, 0.9f);
        var diagnostics = new ControlDiagnostics(expert, 1, trainingBins: null);
        diagnostics.BeginEpisode(0);
        diagnostics.Observe(0, obs, env, ActionValue.OfContinuous(target + 0.05f));
        diagnostics.Observe(0, obs, env, ActionValue.OfContinuous(target - 0.2f));
        var metrics = new Dictionary<string, double>();
        diagnostics.AddTo(metrics);
        Assert.Equal(0.5, metrics["expert_agreement"], 12);
        Assert.Equal((0.05 + 0.2) / 2, metrics["action_abs_error"], 5);
    }

    [Fact]
    public void StatesTheExpertCannotAnswerAreLeftOutOfAgreement()
    {
        var env = EnvRegistry.Create("cartpole");
        var diagnostics = new ControlDiagnostics(new NoAnswer(), 1, trainingBins: null);
        diagnostics.BeginEpisode(0);
        diagnostics.Observe(0, env.Reset(0), env, ActionValue.OfDiscrete(0));
        var metrics = new Dictionary<string, double>();
        diagnostics.AddTo(metrics);
        Assert.Equal(1, metrics["visited_states"]);
        Assert.Equal(0, metrics["expert_queried_states"]);
        Assert.False(metrics.ContainsKey("expert_agreement"));
    }

    [Fact]
    public void UnseenBinsArePerDimensionAtTheTokenizersResolution()
    {
        Timestep Step(params float[] values) => new(new Observation(Continuous: values), ActionValue.OfDiscrete(0));
        var train = new InMemoryEpisodeSource("t", TaskFamily.Control, [new Episode("t", [Step(0f, 0.5f), Step(2f, -3f)])]);
        var bins = TrainingBins.Of(train)!;
        Assert.False(bins.HasUnseen(new Observation(Continuous: [0f, 0.5f])));
        Assert.False(bins.HasUnseen(new Observation(Continuous: [2f, 0.5f])));        // each value seen in its own dimension
        Assert.False(bins.HasUnseen(new Observation(Continuous: [0.00001f, 0.5f])));  // the same bin as 0
        Assert.True(bins.HasUnseen(new Observation(Continuous: [0.5f, 0f])));         // seen values, other dimensions
        Assert.True(bins.HasUnseen(new Observation(Continuous: [0f, 0.5f, 0f])));     // a dimension training never had
        Assert.Null(TrainingBins.Of(new InMemoryEpisodeSource("t", TaskFamily.Control, [new Episode("t", [new Timestep(new Observation(Discrete: [1]))])])));

        var env = EnvRegistry.Create("cartpole");
        env.Reset(0);
        var diagnostics = new ControlDiagnostics(EnvRegistry.Expert("cartpole"), 1, bins);
        diagnostics.BeginEpisode(0);
        diagnostics.Observe(0, new Observation(Continuous: [0f, 0.5f]), env, ActionValue.OfDiscrete(0));
        diagnostics.Observe(0, new Observation(Continuous: [0.5f, 0.5f]), env, ActionValue.OfDiscrete(0));
        var metrics = new Dictionary<string, double>();
        diagnostics.AddTo(metrics);
        Assert.Equal(0.5, metrics["unseen_bin_states"], 12);
    }
}
