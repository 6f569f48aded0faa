using Generalist.Training.Loop;
using Generalist.RunFormat.Checkpointing;

namespace Generalist.Distributed.Tests;

/// <summary>Real multi-process jobs: mpirun starts the harness once per rank.</summary>
public class MpiJobTests
{
    private static readonly TimeSpan Limit = TimeSpan.FromMinutes(4);

    [Fact]
    public void Two_ranks_all_reduce_gather_and_broadcast_correctly()
    {
        var job = MpiJob.Run(2, "allreduce", Limit, "--n", "1000003");
        Assert.True(job.ExitCode == 0, job.Output);
        for (var r = 0; r < 2; r++)
        {
            var result = job.Rank(r);
            Assert.Equal(r, result.GetProperty("rank").GetInt32());
            Assert.Equal(2, result.GetProperty("world").GetInt32());
            Assert.Equal("mpi", result.GetProperty("backend").GetString());
            Assert.Equal(0, result.GetProperty("span_errors").GetInt32());
            Assert.True(result.GetProperty("tensor_ok").GetBoolean());
            Assert.True(result.GetProperty("gather_ok").GetBoolean());
            Assert.Equal("from rank 0", result.GetProperty("broadcast").GetString());
        }
    }

    [Fact]
    [Trait("Category", "Slow")]
    public void Two_ranks_stay_bit_identical_and_match_one_process_on_the_combined_batch_after_50_steps()
    {
        var two = MpiJob.Run(2, "train", Limit, "--steps", "50", "--batch", "4", "--seed", "3");
        Assert.True(two.ExitCode == 0, two.Output);
        var one = MpiJob.Run(0, "train", Limit, "--steps", "50", "--batch", "8", "--seed", "3");
        Assert.True(one.ExitCode == 0, one.Output);
        float[] Params(MpiJobResult job, int rank) => job.Rank(rank).GetProperty("parameters").EnumerateArray().Select(e => e.GetSingle()).ToArray();
        var rank0 = Params(two, 0);
        Assert.Equal(rank0, Params(two, 1));
        var single = Params(one, 0);
        var worst = rank0.Zip(single, (a, b) => Math.Abs(a - b)).Max();
        Assert.True(worst <= 1e-5, $"largest difference from the single process: {worst}");
    }

    [Theory]
    [Trait("Category", "Slow")]
    [InlineData("hang", "has not reached collective")]
    [InlineData("freeze", "the process died or is frozen")]
    [InlineData("kill", "rank 1")]
    [InlineData("exit", "rank 1")]
    public void A_rank_that_hangs_or_dies_stops_the_whole_job_within_the_timeout_naming_it(string fault, string expected)
    {
        const double timeout = 4;
        var job = MpiJob.Run(2, "fault", Limit, "--fault", fault, "--victim", "1", "--at-step", "3", "--timeout", timeout.ToString());
        Assert.NotEqual(0, job.ExitCode);
        Assert.Contains(expected, job.Output);
        Assert.Contains("rank 1", job.Output);
        // Start-up (~5 s on a loaded 2-core machine) + the timeout + a heartbeat interval + teardown.
        Assert.True(job.Elapsed.TotalSeconds < timeout + 25, $"the job took {job.Elapsed.TotalSeconds:F1} s to stop");
    }

    [Fact]
    [Trait("Category", "Slow")]
    public void With_a_sign_flipped_rank_the_mean_diverges_and_robust_rules_stay_within_10_percent()
    {
        // 4 ranks, rank 1 sends -4 x its gradient: the mean then points uphill.
        var job = MpiJob.Run(4, "robust", TimeSpan.FromMinutes(6),
            "--steps", "300", "--batch", "16", "--optimizer", "sgd", "--lr", "0.3", "--attacker", "1", "--attack-factor", "-4");
        Assert.True(job.ExitCode == 0, job.Output);
        var losses = job.Rank(0).GetProperty("losses");
        double Final(string run) => losses.GetProperty(run).EnumerateArray().TakeLast(10)
            .Select(e => e.ValueKind == System.Text.Json.JsonValueKind.String ? double.NaN : e.GetDouble()).Average();
        var clean = Final("clean");
        var mean = Final("mean");
        Assert.True(!double.IsFinite(mean) || mean > 2 * clean, $"mean under attack {mean}, clean {clean}");
        foreach (var rule in new[] { "trimmed_mean", "median", "centered_clip" })
            Assert.True(Final(rule) <= 1.1 * clean, $"{rule}: {Final(rule)} vs clean {clean}");
    }

    [Fact]
    [Trait("Category", "Slow")]
    public void The_trainer_under_mpirun_matches_one_process_and_rank_0_alone_writes()
    {
        var pairRun = Path.Combine(Path.GetTempPath(), "generalist-mpi-train-" + Guid.NewGuid().ToString("N"));
        var singleRun = pairRun + "-single";
        var pair = MpiJob.Run(2, "trainer", Limit, "--steps", "10", "--batch", "4", "--run", pairRun, "--timeout", "120");
        Assert.True(pair.ExitCode == 0, pair.Output);
        var single = MpiJob.Run(0, "trainer", Limit, "--steps", "10", "--batch", "4", "--run", singleRun);
        Assert.True(single.ExitCode == 0, single.Output);
        Assert.All(new[] { 0, 1 }, r => Assert.Equal("Completed", pair.Rank(r).GetProperty("outcome").GetString()));

        Dictionary<string, float[]> Weights(string run)
        {
            var newest = new CheckpointStore(new CheckpointOptions(Path.Combine(run, "checkpoints"), 2)).NewestValid()!;
            Assert.Equal(10, newest.State.Step);
            return newest.Model.Entries.ToDictionary(e => e.Name, e => newest.Model.ReadTensor(e.Name).data<float>().ToArray());
        }
        var a = Weights(pairRun);
        var b = Weights(singleRun);
        var worst = a.Keys.Max(k => a[k].Zip(b[k], (x, y) => Math.Abs(x - y)).Max());
        Assert.True(worst <= 1e-5, $"largest weight difference {worst}");

        var lines = MetricsLog.Read(Path.Combine(pairRun, "metrics.jsonl"));
        Assert.Equal(Enumerable.Range(1, 10).Select(i => (long)i), lines.Select(l => l.Step));
        Assert.All(lines, l => Assert.Equal((2, 0), (l.WorldSize, l.Rank)));
        Assert.All(lines, l => Assert.True(l.SyncSeconds > 0));
        Assert.True(File.Exists(Path.Combine(pairRun, "distributed", "heartbeat", "rank-1.json")));
    }
}
