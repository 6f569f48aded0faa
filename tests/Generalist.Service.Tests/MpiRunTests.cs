using System.Diagnostics;
using Generalist.Distributed;
using Generalist.Service.Api.V1;
using Grpc.Core;
using Generalist.RunFormat;

namespace Generalist.Service.Tests;

/// <summary>
/// A run with distributed.ranks = 2 through the service, end to end: the service starts a real
/// `mpirun -np 2 generalist train` job (the CLI's generalist.dll lands beside these tests), WatchRun
/// streams its steps, CancelRun stops it with a checkpoint, ResumeRun finishes it, GetRun shows both
/// ranks; and a rank killed outright fails the run with that rank named. Needs Open MPI
/// (openmpi-bin, installed by .ci/run).
/// </summary>
[Collection(LiveTraining.Collection)]
public class MpiRunTests
{
    private static readonly TimeSpan Limit = TimeSpan.FromMinutes(3);

    private static Dictionary<string, string?> Settings() => new()
    {
        // --oversubscribe: the test machine may have fewer cores than ranks.
        ["Service:Launcher"] = "mpirun -np {ranks} --oversubscribe -x TERM=dumb {command}",
        ["Service:TrainProgram"] = $"dotnet '{Path.Combine(AppContext.BaseDirectory, "generalist.dll")}'",
        ["Service:ShutdownGraceSeconds"] = "15",
    };

    /// <summary>The tiny model on generated in-context regression data (nothing to download), one thread per rank.</summary>
    private static string Config(string name, int steps) => new RunConfig
    {
        Name = name, Preset = "tiny", Tasks = [new("icl-regression")], Steps = steps, BatchSize = 4, ContextLength = 64,
        Threads = 1, EpisodesPerTask = 50, PeakFlops = 1e11,
        Checkpoint = new CheckpointConfig { Every = 10, KeepLast = 3 },
        HeldOut = new HeldOutConfig { Every = 0 },
        Distributed = new DistributedConfig { Ranks = 2, TimeoutSeconds = 60 },
    }.ToJson();

    private static async Task<Run> WaitFor(TestService service, string name, Func<Run, bool> done)
    {
        var runs = service.Runs();
        var deadline = DateTime.UtcNow + Limit;
        while (true)
        {
            var run = await runs.GetRunAsync(new GetRunRequest { Name = name });
            if (done(run)) return run;
            if (DateTime.UtcNow > deadline) Assert.Fail($"run {name} stayed {run.State} at step {run.Step}: {run.FailureReason}\n{LauncherLog(service, name)}");
            await Task.Delay(100);
        }
    }

    private static string LauncherLog(TestService service, string name)
    {
        var path = Path.Combine(service.DataRoot, "runs", name, "launcher.log");
        return File.Exists(path) ? File.ReadAllText(path) : "(no launcher.log)";
    }

    [Fact]
    [Trait("Category", "Slow")]
    public async Task Two_ranks_launched_by_the_service_stream_steps_cancel_with_a_checkpoint_and_resume_to_the_end()
    {
        await using var service = await TestService.StartAsync(Settings());
        var runs = service.Runs();
        var created = await runs.CreateRunAsync(new CreateRunRequest { ConfigJson = Config("dp2", 400) });
        Assert.Equal(JobState.Queued, created.State);

        // WatchRun streams the steps rank 0 writes.
        var steps = new List<long>();
        using (var watch = runs.WatchRun(new WatchRunRequest { Name = "dp2" }))
        {
            using var timeout = new CancellationTokenSource(Limit);
            await foreach (var e in watch.ResponseStream.ReadAllAsync(timeout.Token))
            {
                if (e.EventCase == RunEvent.EventOneofCase.Step) steps.Add(e.Step.Step);
                if (e.EventCase == RunEvent.EventOneofCase.State && e.State.State == JobState.Failed)
                    Assert.Fail($"the run failed: {e.State.Reason}\n{LauncherLog(service, "dp2")}");
                if (steps.Count >= 15) break;
            }
        }
        Assert.Equal(Enumerable.Range(1, steps.Count).Select(i => (long)i), steps);

        // Both ranks report themselves while training.
        var running = await WaitFor(service, "dp2", r => r.Ranks.Count == 2 && r.Ranks.All(k => k.State == "training"));
        Assert.Equal([0, 1], running.Ranks.Select(k => k.Rank));
        Assert.All(running.Ranks, k => Assert.True(k.Pid > 0 && k.Host.Length > 0 && k.UpdateTime is not null));

        // The service exports the launched run's metrics from rank 0's metrics.jsonl, all-reduce time included.
        using (var http = service.Server.CreateClient())
        {
            var scrape = new PrometheusText(await http.GetStringAsync("/metrics"));
            Assert.NotNull(scrape.Value("generalist_train_loss", ("run", "dp2"), ("task", "icl-regression")));
            Assert.True(scrape.Value("generalist_train_steps_total", ("run", "dp2")) >= 15, scrape.Text);
            Assert.True(scrape.Value("generalist_train_phase_duration_seconds_count", ("run", "dp2"), ("phase", "allreduce")) > 0, scrape.Text);
        }

        // Cancel: SIGTERM to mpirun, the ranks agree on a step, checkpoint it and exit.
        await runs.CancelRunAsync(new CancelRunRequest { Name = "dp2" });
        var cancelled = await WaitFor(service, "dp2", r => r.State is JobState.Cancelled or JobState.Failed);
        Assert.True(cancelled.State == JobState.Cancelled, $"{cancelled.State}: {cancelled.FailureReason}\n{LauncherLog(service, "dp2")}");
        Assert.All(cancelled.Ranks, k => Assert.Equal(("cancelled", cancelled.Ranks[0].Step), (k.State, k.Step)));
        Assert.True(cancelled.Step is > 0 and < 400, $"cancelled at step {cancelled.Step}");
        Assert.EndsWith($"step-{cancelled.Step}", cancelled.LastCheckpoint);

        // Resume on the same two ranks: from that checkpoint to the end.
        await runs.ResumeRunAsync(new ResumeRunRequest { Name = "dp2" });
        var done = await WaitFor(service, "dp2", r => r.State is JobState.Succeeded or JobState.Failed);
        Assert.True(done.State == JobState.Succeeded, $"{done.State}: {done.FailureReason}\n{LauncherLog(service, "dp2")}");
        Assert.Equal(400, done.Step);
        Assert.All(done.Ranks, k => Assert.Equal(("completed", 400L), (k.State, k.Step)));
        Assert.EndsWith("step-400", done.LastCheckpoint);
        var log = LauncherLog(service, "dp2");
        Assert.Contains($"resumed from", log);
        Assert.Contains("--resume", log);
    }

    [Fact]
    [Trait("Category", "Slow")]
    public async Task A_rank_killed_mid_run_fails_the_run_naming_that_rank()
    {
        await using var service = await TestService.StartAsync(Settings());
        var runs = service.Runs();
        await runs.CreateRunAsync(new CreateRunRequest { ConfigJson = Config("dp-kill", 5000) });
        var training = await WaitFor(service, "dp-kill", r => r.Ranks.Count == 2 && r.Ranks.All(k => k.State == "training" && k.Step >= 3));
        var victim = training.Ranks.Single(k => k.Rank == 1);
        using (var process = Process.GetProcessById(victim.Pid)) process.Kill();

        var failed = await WaitFor(service, "dp-kill", r => r.State is JobState.Failed or JobState.Succeeded or JobState.Cancelled);
        Assert.Equal(JobState.Failed, failed.State);
        Assert.Contains($"rank 1 (pid {victim.Pid} on {victim.Host}) stopped at step", failed.FailureReason);
        Assert.Contains("it went silent first", failed.FailureReason);
        Assert.StartsWith("the launcher exited with code", failed.FailureReason);
        Assert.True(failed.FailureReason.IndexOf("rank 1", StringComparison.Ordinal) < failed.FailureReason.IndexOf("rank 0", StringComparison.Ordinal), failed.FailureReason);
        Assert.Contains("launcher.log", failed.FailureReason);
    }
}
