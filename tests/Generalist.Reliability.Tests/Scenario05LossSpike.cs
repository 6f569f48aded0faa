using Generalist.Training;
using Generalist.Training.Loop;
using Generalist.Training.Tests;
using Xunit.Abstractions;
using Generalist.RunFormat;
using Generalist.RunFormat.Checkpointing;
using Generalist.TestSupport;

namespace Generalist.Reliability.Tests;

/// <summary>Issue 10, scenario 5: an injected 20x+ loss spike rolls back to an earlier checkpoint and skips the following batches, with the data cursor exactly placed.</summary>
public class Scenario05LossSpike(ITestOutputHelper output)
{
    [Fact]
    public void A_loss_spike_rolls_back_and_skips_the_window_with_the_cursor_exactly_placed()
    {
        using var dir = new TempDir();
        var data = new SyntheticData();
        var config = TrainerHarness.Config(20, c => c with
        {
            GradAccum = 2,
            Spike = new SpikeConfig { Factor = 20, MinHistory = 5, SkipSteps = 3 },
        });
        var faults = new FaultInjection { SpikeAtSteps = new HashSet<long> { 13 }, SpikeFactor = 1000 };
        var (result, events, log) = TrainerHarness.Run(config, dir.Path, faults: faults, data: data);
        Assert.Equal(TrainingOutcome.Completed, result.Outcome);
        Assert.Contains(log, l => l.Contains("loss spike at step 13") && l.Contains("rolled back to step 10"));

        // Steps 1-13 used micro-batches 0..25; the rollback restores step 10 and resumes at the batch
        // after the spike's (26) plus 3 steps x 2 micro-batches: step 11 reads batches 32 and 33.
        Assert.Equal(Enumerable.Range(0, 26).Select(i => (long)i), data.Served.Take(26));
        Assert.Equal([32L, 33], data.Served.Skip(26).Take(2));
        var lines = MetricsLog.Read(Path.Combine(dir.Path, "metrics.jsonl"));
        Assert.Equal(Enumerable.Range(1, 20).Select(i => (long)i), lines.Select(l => l.Step));
        Assert.All(lines, l => Assert.True(l.Loss < 100));
        var final = CheckpointStore.Validate(new CheckpointInfo(20, Path.Combine(dir.Path, "checkpoints", "step-20"))).State;
        Assert.Equal(1, final.Rollbacks);
        Assert.Equal(40 + 6 + 6, final.DataCursor.GetProperty("next_batch").GetInt64()); // 20 steps x 2 + replayed 3 steps x 2 + skipped 3 x 2
        var figures = new Figures(output, "5");
        var note = log.Single(l => l.Contains("loss spike"));
        var detectedAt = long.Parse(System.Text.RegularExpressions.Regex.Match(note, @"loss spike at step (\d+)").Groups[1].Value);
        figures.Add("steps from the injected spike (step 13) to its detection", detectedAt - 13, "steps", note);
        figures.Add("micro-batches skipped after the rollback", data.Served[26] - 26, "batches", "steps 11-13 replayed on new data (6) + skip_steps 3 x grad_accum 2 (6)");
    }

    [Fact]
    public void Repeated_spikes_beyond_max_rollbacks_fail_the_run()
    {
        using var dir = new TempDir();
        var config = TrainerHarness.Config(30, c => c with { Spike = new SpikeConfig { MinHistory = 5, SkipSteps = 0, MaxRollbacks = 1 } });
        var faults = new FaultInjection { SpikeAtSteps = new HashSet<long> { 12, 14 }, SpikeFactor = 1000 };
        var (result, _, _) = TrainerHarness.Run(config, dir.Path, faults: faults);
        Assert.Equal(TrainingOutcome.Failed, result.Outcome);
        Assert.Contains("spike.max_rollbacks", result.FailureReason);
    }
}
