using Generalist.Distributed;
using Generalist.Training.Loop;
using static TorchSharp.torch;
using Generalist.RunFormat;
using Generalist.RunFormat.Checkpointing;
using Generalist.TestSupport;

namespace Generalist.Training.Tests;

/// <summary>
/// The real trainer with ranks simulated as threads of this process (InProcessGroup): the same
/// step, sharding, checkpoint and resume code as under mpirun, without launching processes
/// (tests/Generalist.Distributed.Tests launches real MPI jobs).
/// </summary>
public class DataParallelTrainingTests
{
    private static TrainingResult[] RunRanks(int world, RunConfig config, string dir, bool resume = false)
    {
        using var group = new InProcessGroup(world);
        return group.Run(comm =>
        {
            using var context = DistributedContext.FromCommunicator(comm);
            var trainer = new Trainer(new TrainerOptions { Data = new SyntheticData(), Model = SyntheticData.MicroModel, Distributed = context });
            return trainer.RunAsync(config, dir, resume, null, CancellationToken.None).GetAwaiter().GetResult();
        });
    }

    private static Dictionary<string, float[]> FinalWeights(string dir)
    {
        var store = new CheckpointStore(new CheckpointOptions(Path.Combine(dir, "checkpoints"), 3));
        var newest = store.NewestValid()!;
        return newest.Model.Entries.ToDictionary(e => e.Name, e => newest.Model.ReadTensor(e.Name).data<float>().ToArray());
    }

    /// <summary>
    /// Largest per-parameter difference, leaving out the patch block's conv biases: each feeds a
    /// GroupNorm that subtracts it again, so its true gradient is exactly 0 and what backward gives
    /// is float round-off (~1e-10) that depends on summation order; AdamW divides that by its own
    /// square root and moves those biases by about lr in an arbitrary direction. They have no effect
    /// on the model's outputs (the losses above agree); every other parameter must agree to 1e-5.
    /// </summary>
    private static double LargestDifference(Dictionary<string, float[]> a, Dictionary<string, float[]> b)
    {
        Assert.Equal(a.Keys.Order(), b.Keys.Order());
        return a.Keys.Where(k => !(k.StartsWith("patch_embedding.conv", StringComparison.Ordinal) && k.EndsWith(".bias", StringComparison.Ordinal)))
            .Max(k => a[k].Zip(b[k], (x, y) => Math.Abs(x - y)).Max());
    }

    [Fact]
    public void Two_ranks_train_exactly_like_one_process_on_the_same_global_batch()
    {
        using var single = new TempDir();
        using var pair = new TempDir();
        var config = TrainerHarness.Config(12);
        TrainerHarness.Run(config, single.Path);
        var results = RunRanks(2, config, pair.Path);
        Assert.All(results, r => Assert.Equal(TrainingOutcome.Completed, r.Outcome));
        var worst = LargestDifference(FinalWeights(single.Path), FinalWeights(pair.Path));
        Assert.True(worst <= 1e-5, $"largest weight difference {worst}");
        // Rank 0 alone wrote metrics: one line per step, carrying the job's world size and global tokens.
        var lines = MetricsLog.Read(Path.Combine(pair.Path, "metrics.jsonl"));
        Assert.Equal(12, lines.Count);
        Assert.All(lines, l => Assert.Equal((2, 0, 4L * 32), (l.WorldSize, l.Rank, l.Tokens)));
        var singleLines = MetricsLog.Read(Path.Combine(single.Path, "metrics.jsonl"));
        for (var i = 0; i < 12; i++) Assert.Equal(singleLines[i].Loss, lines[i].Loss, 5);
    }

    [Theory]
    [InlineData(2, 4)]
    [InlineData(4, 1)]
    public void A_run_resumed_with_another_number_of_ranks_continues_the_same_sample_stream(int before, int after)
    {
        using var straight = new TempDir();
        using var split = new TempDir();
        var config = TrainerHarness.Config(14);
        TrainerHarness.Run(config, straight.Path);
        // `before` ranks, then back to the step-10 checkpoint (as if the job had died after it) and `after` ranks to the end.
        RunRanks(before, config, split.Path);
        Directory.Delete(Path.Combine(split.Path, "checkpoints", "step-14"), recursive: true);
        var rest = RunRanks(after, config, split.Path, resume: true);
        Assert.All(rest, r => Assert.Equal(TrainingOutcome.Completed, r.Outcome));
        var worst = LargestDifference(FinalWeights(straight.Path), FinalWeights(split.Path));
        Assert.True(worst <= 1e-5, $"largest weight difference {worst}");
        var state = new CheckpointStore(new CheckpointOptions(Path.Combine(split.Path, "checkpoints"), 3)).NewestValid()!.State;
        Assert.Equal(14, state.DataCursor.GetProperty("next_batch").GetInt64());
        Assert.Equal(14L * 4 * 32, state.TokensSeen);
    }

    [Fact]
    public void A_centered_clipping_run_resumed_from_a_checkpoint_continues_exactly()
    {
        using var straight = new TempDir();
        using var split = new TempDir();
        var config = TrainerHarness.Config(14, c => c with { Distributed = new DistributedConfig { Aggregation = DistributedConfig.CenteredClip } });
        RunRanks(4, config, straight.Path);
        RunRanks(4, config, split.Path);
        // Back to the step-10 checkpoint, as if the job had died after it, and on to the end.
        Directory.Delete(Path.Combine(split.Path, "checkpoints", "step-14"), recursive: true);
        var rest = RunRanks(4, config, split.Path, resume: true);
        Assert.All(rest, r => Assert.Equal(TrainingOutcome.Completed, r.Outcome));
        // The clipping center is part of the checkpoint...
        var newest = new CheckpointStore(new CheckpointOptions(Path.Combine(split.Path, "checkpoints"), 3)).NewestValid()!;
        var center = newest.Optimizer.Entries.Single(e => e.Name == CenteredClipAggregator.CenterEntry);
        var parameters = newest.Model.Entries.Sum(e => newest.Model.ReadTensor(e.Name).numel());
        Assert.Equal(parameters, newest.Optimizer.ReadTensor(center.Name).numel());
        // ...so the resumed run clips around the same history and ends with the very same weights.
        var a = FinalWeights(straight.Path);
        var b = FinalWeights(split.Path);
        Assert.All(a.Keys, k => Assert.Equal(a[k], b[k]));
    }

    [Fact]
    public void A_stop_file_stops_every_rank_at_the_same_step_with_a_checkpoint()
    {
        using var dir = new TempDir();
        var config = TrainerHarness.Config(200);
        using var group = new InProcessGroup(2);
        var results = group.Run(comm =>
        {
            using var context = DistributedContext.FromCommunicator(comm);
            // The stop file appears (as the service writes it) once step 3 is done; every rank must see it and agree.
            var progress = new StopAfter(3, comm.Rank == 0 ? () => StopRequest.Write(dir.Path, "test") : null);
            var trainer = new Trainer(new TrainerOptions { Data = new SyntheticData(), Model = SyntheticData.MicroModel, Distributed = context });
            return trainer.RunAsync(config, dir.Path, false, progress, CancellationToken.None).GetAwaiter().GetResult();
        });
        Assert.All(results, r => Assert.Equal(TrainingOutcome.Cancelled, r.Outcome));
        Assert.Equal(results[0].FinalStep, results[1].FinalStep);
        Assert.InRange(results[0].FinalStep, 3, 5);
        Assert.EndsWith($"step-{results[0].FinalStep}", results[0].LastCheckpoint);
    }

    /// <summary>Runs an action when step N is reported (rank 0 alone reports steps).</summary>
    private sealed class StopAfter(int step, Action? action) : IProgress<TrainingEvent>
    {
        public void Report(TrainingEvent value)
        {
            if (value is StepCompleted s && s.Step == step) action?.Invoke();
        }
    }

    [Fact]
    public void A_global_batch_that_does_not_split_over_the_ranks_is_a_config_error()
    {
        using var dir = new TempDir();
        var e = Assert.Throws<DistributedException>(() => RunRanks(3, TrainerHarness.Config(2), dir.Path));
        Assert.Contains("batch_size", e.Message);
        Assert.Contains("multiple of 3", e.Message);
    }
}
