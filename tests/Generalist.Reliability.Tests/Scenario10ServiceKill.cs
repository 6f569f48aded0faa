using System.Diagnostics;
using Generalist.Service.Api.V1;
using Generalist.Service.Kernel;
using Generalist.Service.Registry;
using JobState = Generalist.Service.Api.V1.JobState;
using StoredState = Generalist.Service.Registry.JobState;
using Generalist.Service.Tests;
using CliChild = Generalist.Service.Tests.Cli;
using Generalist.Training.Loop;
using Grpc.Core;
using Grpc.Net.Client;
using Xunit.Abstractions;
using Generalist.RunFormat;

namespace Generalist.Reliability.Tests;

/// <summary>
/// Issue 10, scenario 10: kill -9 of the service in the middle of a run. After a restart on the same
/// data root the registry is consistent, the run shows as interrupted, and ResumeRun continues it
/// from its last checkpoint to the end. In-process with what a kill leaves behind (fast), and for
/// real: a `generalist serve` child training a real model, killed with SIGKILL inside a checkpoint
/// write, then started again.
/// </summary>
public class Scenario10ServiceKill(ITestOutputHelper output)
{
    [Fact]
    public async Task A_row_left_running_by_a_killed_service_becomes_interrupted_and_resumes_from_its_last_checkpoint()
    {
        // What kill -9 leaves behind: a registry row in `running` and the checkpoints written so far.
        var root = Directory.CreateTempSubdirectory("generalist-killed-").FullName;
        var config = new RunConfig { Name = "victim", Steps = 8, Checkpoint = new CheckpointConfig { Every = 2 } };
        using (var registry = new RunRegistry(new DataLayout(root), TimeProvider.System))
        {
            registry.InsertRun("victim", config.ToJson(), 8);
            registry.SetRunState("victim", StoredState.Running, "started", started: true);
            registry.UpdateRunProgress("victim", 5, 1.5, 100, 5 * 512);
            registry.AddCheckpoint("victim", 4, "runs/victim/checkpoints/step-4");
        }
        var ckpt = Directory.CreateDirectory(Path.Combine(root, "runs/victim/checkpoints/step-4")).FullName;
        File.WriteAllText(Path.Combine(ckpt, "trainer_state.json"), """{"step":4}""");
        Directory.CreateDirectory(Path.Combine(root, "runs/victim/checkpoints/.tmp-step-6")); // a half-written one

        var trainer = new FakeTrainer();
        await using var svc = await TestService.StartAsync(dataRoot: root, trainer: trainer);
        var run = await svc.Runs().GetRunAsync(new GetRunRequest { Name = "victim" });
        Assert.Equal(JobState.Interrupted, run.State);
        Assert.Contains("ResumeRun", run.FailureReason);
        Assert.Equal(5, run.Step);
        Assert.Equal("runs/victim/checkpoints/step-4", run.LastCheckpoint);
        Assert.Empty(trainer.Calls); // nothing restarts by itself

        await svc.Runs().ResumeRunAsync(new ResumeRunRequest { Name = "victim" });
        var done = await svc.WaitForStateAsync("victim", JobState.Succeeded);
        Assert.Equal(8, done.Step);
        Assert.Equal(("victim", true, 4L), Assert.Single(trainer.Calls));
        var history = svc.Service<RunRegistry>().StateHistory("runs", "victim").Select(s => s.State);
        Assert.Equal([StoredState.Queued, StoredState.Running, StoredState.Interrupted, StoredState.Queued, StoredState.Running, StoredState.Succeeded], history);
        var steps = (await svc.Checkpoints().ListCheckpointsAsync(new ListCheckpointsRequest { Run = "victim" })).Checkpoints.Select(c => c.Step);
        Assert.Equal([4L, 6, 8], steps);
        TestService.TryDelete(root);
    }

    [Fact]
    public async Task Kill_9_of_generalist_serve_mid_run_then_restart_shows_interrupted_and_ResumeRun_finishes()
    {
        var figures = new Figures(output, "10");
        var root = Directory.CreateTempSubdirectory("generalist-serve-kill9-").FullName;
        var marker = Path.Combine(root, "..", Path.GetFileName(root) + ".paused");
        try
        {
            var config = new RunConfig
            {
                Name = "victim", Preset = "tiny", Tasks = [new("icl-regression")], Steps = 12, BatchSize = 2, Threads = 1,
                PeakFlops = 1e11, Checkpoint = new CheckpointConfig { Every = 4, KeepLast = 3 }, HeldOut = new HeldOutConfig { Every = 0 },
            };
            // First life: the trainer stops inside the step-8 checkpoint write (all files written, not yet renamed).
            var env = new Dictionary<string, string?>
            {
                [CheckpointPauseHook.PhaseVariable] = "state-written@8",
                [CheckpointPauseHook.MarkerVariable] = marker,
            };
            using (var first = CliChild.Start(env, "serve", "--data-root", root, "--port", "0", "--metrics-port", "0"))
            {
                try
                {
                    var (grpc, _) = await CliChild.WaitUntilListeningAsync(first);
                    _ = first.StandardError.ReadToEndAsync();
                    using var channel = GrpcChannel.ForAddress(grpc);
                    var runs = new Runs.RunsClient(channel);
                    await runs.CreateRunAsync(new CreateRunRequest { ConfigJson = config.ToJson() });
                    var waited = Stopwatch.StartNew();
                    while (!File.Exists(marker) && !first.HasExited && waited.Elapsed < TimeSpan.FromSeconds(180)) await Task.Delay(20);
                    Assert.True(File.Exists(marker), $"the run never reached its step-8 checkpoint (service exited: {first.HasExited})");
                    var running = await runs.GetRunAsync(new GetRunRequest { Name = "victim" });
                    Assert.Equal(JobState.Running, running.State);
                    Assert.Equal("runs/victim/checkpoints/step-4", running.LastCheckpoint);
                }
                finally
                {
                    first.Kill(); // SIGKILL: no shutdown hook runs, the registry is not told
                    first.WaitForExit(30_000);
                }
                Assert.Equal(137, first.ExitCode);
            }

            // Second life, same data root, no hook.
            var restart = Stopwatch.StartNew();
            using var second = CliChild.Start("serve", "--data-root", root, "--port", "0", "--metrics-port", "0");
            try
            {
                var (grpc, _) = await CliChild.WaitUntilListeningAsync(second);
                _ = second.StandardError.ReadToEndAsync();
                using var channel = GrpcChannel.ForAddress(grpc);
                var runs = new Runs.RunsClient(channel);
                var checkpoints = new Checkpoints.CheckpointsClient(channel);
                var interrupted = await runs.GetRunAsync(new GetRunRequest { Name = "victim" });
                figures.Add("restart after kill -9 until the registry answers", restart.Elapsed.TotalSeconds, "s");
                Assert.Equal(JobState.Interrupted, interrupted.State);
                Assert.Contains("ResumeRun", interrupted.FailureReason);
                Assert.Equal("runs/victim/checkpoints/step-4", interrupted.LastCheckpoint);
                Assert.True(interrupted.Step >= 4, $"step {interrupted.Step}");
                Assert.Equal(["victim"], (await runs.ListRunsAsync(new ListRunsRequest())).Runs.Select(r => r.Name));
                // The half-written step-8 is on disk but never listed.
                Assert.Equal([0L, 4], (await checkpoints.ListCheckpointsAsync(new ListCheckpointsRequest { Run = "victim" })).Checkpoints.Select(c => c.Step));
                var checkpointDir = Path.Combine(root, "runs", "victim", "checkpoints");
                Assert.Single(Directory.GetDirectories(checkpointDir, ".tmp-step-8-*"));

                var resumedAt = Stopwatch.StartNew();
                Assert.Equal(JobState.Queued, (await runs.ResumeRunAsync(new ResumeRunRequest { Name = "victim" })).State);
                var steps = new List<long>();
                var final = JobState.Unspecified;
                using (var watch = runs.WatchRun(new WatchRunRequest { Name = "victim" }, deadline: DateTime.UtcNow.AddSeconds(180)))
                {
                    await foreach (var e in watch.ResponseStream.ReadAllAsync())
                    {
                        if (e.EventCase == RunEvent.EventOneofCase.Step) steps.Add(e.Step.Step);
                        if (e.EventCase == RunEvent.EventOneofCase.State) final = e.State.State;
                        if (e.EventCase == RunEvent.EventOneofCase.Snapshot) final = e.Snapshot.State;
                    }
                }
                figures.Add("ResumeRun to succeeded (steps 5-12 of the tiny model)", resumedAt.Elapsed.TotalSeconds, "s");
                Assert.Equal(JobState.Succeeded, final);
                Assert.NotEmpty(steps);
                Assert.True(steps.Min() > 4, $"the resumed run replayed steps it had checkpointed: {string.Join(",", steps)}");
                var done = await runs.GetRunAsync(new GetRunRequest { Name = "victim" });
                Assert.Equal(12, done.Step);
                Assert.Equal(2, done.Attempts);
                Assert.Equal("runs/victim/checkpoints/step-12", done.LastCheckpoint);
                Assert.Equal([4L, 8, 12], (await checkpoints.ListCheckpointsAsync(new ListCheckpointsRequest { Run = "victim" })).Checkpoints.Select(c => c.Step));
                Assert.Empty(Directory.GetFileSystemEntries(checkpointDir, "*.tmp*", SearchOption.AllDirectories));
                var lines = MetricsLog.Read(Path.Combine(root, "runs", "victim", "metrics.jsonl"));
                Assert.Equal(Enumerable.Range(1, 12).Select(i => (long)i), lines.Select(l => l.Step));

                Process.Start("kill", ["-TERM", second.Id.ToString()]).WaitForExit();
                Assert.True(second.WaitForExit(30_000), "serve did not stop on SIGTERM");
                Assert.Equal(0, second.ExitCode);
            }
            finally
            {
                if (!second.HasExited) second.Kill();
            }
            // The registry file itself is sound after both lives.
            using var registry = new RunRegistry(new DataLayout(root), TimeProvider.System);
            Assert.Equal(1, registry.CountRuns());
            Assert.Equal([StoredState.Queued, StoredState.Running, StoredState.Interrupted, StoredState.Queued, StoredState.Running, StoredState.Succeeded],
                registry.StateHistory("runs", "victim").Select(s => s.State));
        }
        finally
        {
            File.Delete(marker);
            TestService.TryDelete(root);
        }
    }
}
