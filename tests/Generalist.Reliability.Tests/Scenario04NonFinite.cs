using Generalist.Training;
using Generalist.Training.Loop;
using Generalist.Training.Tests;
using Xunit.Abstractions;
using Generalist.RunFormat.Checkpointing;
using Generalist.TestSupport;

namespace Generalist.Reliability.Tests;

/// <summary>Issue 10, scenario 4: an injected non-finite loss or gradient applies no update, is counted and reported; the skip-or-halt policy is configurable.</summary>
public class Scenario04NonFinite(ITestOutputHelper output)
{
    [Fact]
    public void Injected_non_finite_loss_skips_the_update_and_is_counted()
    {
        using var dir = new TempDir();
        var faults = new FaultInjection { NanAtSteps = new HashSet<long> { 3, 7 } };
        var (result, events, _) = TrainerHarness.Run(TrainerHarness.Config(10), dir.Path, faults: faults);
        Assert.Equal(TrainingOutcome.Completed, result.Outcome);
        Assert.Equal([3L, 7], events.Steps.Where(s => s.Skipped).Select(s => s.Step));
        var state = CheckpointStore.Validate(new CheckpointInfo(10, Path.Combine(dir.Path, "checkpoints", "step-10"))).State;
        Assert.Equal(2, state.NonFiniteSteps);
        Assert.Equal(8, state.OptimizerSteps);
        var figures = new Figures(output, "4");
        figures.Add("non-finite steps injected / counted in trainer_state.json", state.NonFiniteSteps, "steps", "NaN at steps 3 and 7 of 10");
        figures.Add("optimizer updates applied", state.OptimizerSteps, "updates", "of 10 steps");

        // The skipped step left weights and moments untouched: the step after it sees the same
        // model as a run whose data had no such step would... checked directly: step 4's loss
        // is finite and the optimizer counted 8 updates for 10 steps.
        Assert.True(double.IsFinite(events.Steps[3].Loss));
    }

    [Fact]
    public void A_skipped_step_changes_nothing_in_the_model()
    {
        using var a = new TempDir();
        using var b = new TempDir();
        // With lr 0 nothing moves either way, so compare at a real lr: the run with a NaN at step 3
        // has, after step 3, exactly the weights it had after step 2 -> its step-3 checkpoint equals
        // a run stopped at step 2 except for counters.
        var config = TrainerHarness.Config(3, c => c with { Checkpoint = new() { Every = 1, KeepLast = 5 } });
        TrainerHarness.Run(config, a.Path, faults: new FaultInjection { NanAtSteps = new HashSet<long> { 3 } });
        var after2 = CheckpointStore.Validate(new CheckpointInfo(2, Path.Combine(a.Path, "checkpoints", "step-2")));
        var after3 = CheckpointStore.Validate(new CheckpointInfo(3, Path.Combine(a.Path, "checkpoints", "step-3")));
        Assert.Equal(after2.State.Checksums[CheckpointStore.ModelFile], after3.State.Checksums[CheckpointStore.ModelFile]);
        Assert.Equal(after2.State.Checksums[CheckpointStore.OptimizerFile], after3.State.Checksums[CheckpointStore.OptimizerFile]);
    }

    [Fact]
    public void Non_finite_policy_halt_fails_at_once_and_skip_fails_after_the_limit()
    {
        using var a = new TempDir();
        var halt = TrainerHarness.Run(TrainerHarness.Config(10, c => c with { NonFinite = new() { Policy = "halt" } }), a.Path,
            faults: new FaultInjection { NanAtSteps = new HashSet<long> { 4 } });
        Assert.Equal(TrainingOutcome.Failed, halt.Result.Outcome);
        Assert.Equal(4, halt.Result.FinalStep);
        Assert.Contains("non_finite.policy", halt.Result.FailureReason);

        using var b = new TempDir();
        var skip = TrainerHarness.Run(TrainerHarness.Config(10, c => c with { NonFinite = new() { Policy = "skip", MaxConsecutive = 3 } }), b.Path,
            faults: new FaultInjection { NanAtSteps = new HashSet<long> { 2, 3, 4, 5 } });
        Assert.Equal(TrainingOutcome.Failed, skip.Result.Outcome);
        Assert.Equal(4, skip.Result.FinalStep);
        Assert.Contains("3 non-finite steps in a row", skip.Result.FailureReason);
    }
}
