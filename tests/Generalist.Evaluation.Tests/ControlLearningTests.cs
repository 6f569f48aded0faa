using Generalist.Training;
using Generalist.Training.Loop;
using Generalist.RunFormat;

namespace Generalist.Evaluation.Tests;

/// <summary>
/// Closed-loop behaviour, not a falling loss: a seeded cartpole specialist trained for a fixed step
/// budget on real expert data (with the default state-coverage noise) must act well in the environment (50 rollouts on held-out seeds).
/// Slow (10 min measured on 2 cores shared with another training run; passed); runs with runsettings/full.runsettings.
/// </summary>
public class ControlLearningTests
{
    public static RunConfig CartpoleSpecialist => new()
    {
        Name = "cartpole-specialist",
        Preset = "tiny",
        Tasks = [new("cartpole")],
        Steps = 300,
        Seed = 1,
        Threads = 2,
        PeakFlops = 1e11, // MFU needs a denominator; measuring it is not what this test is about
        Checkpoint = new CheckpointConfig { Every = 0 },
        HeldOut = new HeldOutConfig { Every = 0 },
    };

    [Fact]
    [Trait("Category", "Slow")]
    public async Task A_seeded_cartpole_specialist_balances_the_pole()
    {
        var dir = Directory.CreateTempSubdirectory("cartpole-specialist").FullName;
        try
        {
            var trained = await new Trainer().RunAsync(CartpoleSpecialist, dir, resume: false, null, CancellationToken.None);
            Assert.Equal(TrainingOutcome.Completed, trained.Outcome);
            var result = await new Evaluator().EvaluateAsync(
                new EvaluationRequest(trained.LastCheckpoint!, Suite: "control", Episodes: 50), null, CancellationToken.None);
            var cartpole = Assert.Single(result.Tasks, t => t.Task == "cartpole");
            Assert.True(cartpole.NormalizedScore >= 80, $"cartpole normalized score {cartpole.NormalizedScore:0.0} (return {cartpole.Metrics["return"]:0.0})");
        }
        finally
        {
            Directory.Delete(dir, true);
        }
    }
}
