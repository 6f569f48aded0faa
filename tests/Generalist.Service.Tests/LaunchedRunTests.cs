using Generalist.Distributed;
using Generalist.Service.Api.V1;
using Generalist.Service.Jobs;
using Generalist.Training;
using Grpc.Core;
using Microsoft.Extensions.Logging.Abstractions;
using Microsoft.Extensions.Options;
using Generalist.RunFormat;

namespace Generalist.Service.Tests;

/// <summary>
/// Runs with distributed.ranks &gt; 1: the launcher command the service builds, its checks, how it
/// reads a launched job's files and how it names a failed rank. The real mpirun job through the
/// service is in <see cref="MpiRunTests"/>.
/// </summary>
public class LaunchedRunTests
{
    private static RunConfig TwoRanks(string? launcher = null) =>
        new() { Name = "dp", Steps = 10, BatchSize = 4, Distributed = new DistributedConfig { Ranks = 2, Launcher = launcher } };

    private static LaunchedTrainer Launcher(Action<Kernel.ServiceOptions>? edit = null)
    {
        var options = new Kernel.ServiceOptions { DataRoot = "/tmp", TrainProgram = "/opt/gen/generalist" };
        edit?.Invoke(options);
        return new LaunchedTrainer(Options.Create(options), NullLogger<LaunchedTrainer>.Instance);
    }

    [Fact]
    public void The_service_launcher_starts_generalist_train_on_the_run_directory_with_the_rank_count()
    {
        var argv = Launcher(o => o.Launcher = "srun --ntasks={ranks} --mpi=pmix {command}").Command(TwoRanks(), "/data/runs/dp", resume: true);
        Assert.Equal(["srun", "--ntasks=2", "--mpi=pmix", "/opt/gen/generalist", "train", "--config", "/data/runs/dp/run.json", "--out", "/data/runs/dp", "--resume"], argv);
    }

    [Fact]
    public void A_run_may_bring_its_own_launcher_only_where_the_service_allows_it()
    {
        var config = TwoRanks("mpirun -np {ranks} --hostfile hosts {command}");
        var refused = Assert.Throws<ConfigException>(() => Launcher().Command(config, "/r", false));
        Assert.Equal("distributed.launcher", refused.Field);
        Assert.Contains("AllowRunLauncher", refused.Message);
        var argv = Launcher(o => o.AllowRunLauncher = true).Command(config, "/r", false);
        Assert.Equal(["-np", "2", "--hostfile", "hosts", "/opt/gen/generalist", "train"], argv.Where(a => a != "--allow-run-as-root").Skip(1).Take(6));
    }

    [Theory]
    [InlineData("mpirun -np 2 {command}", "{ranks}")]
    [InlineData("mpirun -np {ranks}", "{command} exactly once")]
    [InlineData("mpirun -np {ranks} {command} {command}", "{command} exactly once")]
    [InlineData("mpirun -np {ranks} --host {hosts} {command}", "unknown placeholder {hosts}")]
    [InlineData("{command} {ranks}", "must start with the launching program")]
    [InlineData("mpirun -np {ranks} 'unclosed {command}", "unclosed ' quote")]
    [InlineData("   ", "must be a command template")]
    public void Bad_launcher_templates_get_a_clear_error(string template, string expected)
    {
        var problems = MpiLauncher.Problems(template);
        Assert.Contains(problems, p => p.Contains(expected, StringComparison.Ordinal));
        var e = Assert.Throws<DistributedException>(() => MpiLauncher.Render(template, 2, ["generalist", "train"]));
        Assert.Contains("distributed.launcher", e.Message);
        // The run config names the field with the same words.
        var errors = (TwoRanks(template)).Validate();
        Assert.Contains(errors, x => x.Field == "distributed.launcher" && x.Message.Contains(expected, StringComparison.Ordinal));
    }

    [Fact]
    public async Task A_bad_service_launcher_stops_the_service_at_start_naming_the_setting()
    {
        var e = await Assert.ThrowsAsync<OptionsValidationException>(() => TestService.StartAsync(new() { ["Service:Launcher"] = "mpirun -np {ranks}" }));
        Assert.Contains("Service:Launcher", e.Message);
        Assert.Contains("{command}", e.Message);
    }

    [Fact]
    public async Task CreateRun_refuses_a_per_run_launcher_the_service_does_not_allow_and_keeps_nothing()
    {
        await using var service = await TestService.StartAsync();
        var runs = service.Runs();
        var config = TwoRanks("/bin/sh -c 'anything' {command} {ranks}");
        var status = await Rpc.FailsWith(StatusCode.InvalidArgument, () => runs.CreateRunAsync(new CreateRunRequest { ConfigJson = config.ToJson() }).ResponseAsync);
        Assert.Contains("distributed.launcher", status.Message);
        Assert.Empty((await runs.ListRunsAsync(new ListRunsRequest())).Runs);
    }

    [Fact]
    public void The_follower_turns_new_metrics_lines_and_checkpoints_into_events_once_each()
    {
        var dir = Directory.CreateTempSubdirectory("generalist-follow-").FullName;
        try
        {
            var events = new List<TrainingEvent>();
            var follower = new RunFollower(dir, 10, new Sync(events.Add), afterStep: 0);
            var metrics = Path.Combine(dir, "metrics.jsonl");
            static string Line(int step, string heldOut = "null") =>
                $$"""{"step":{{step}},"loss":{{2.5 - step * 0.1}},"task_loss":{"t":1.5},"lr":0.001,"grad_norm":1,"tokens":64,"tokens_seen":{{64 * step}},"tokens_per_s":100,"mfu":0.1,"data_s":0,"forward_s":0.01,"backward_s":0.02,"optimizer_s":0.01,"skipped":false,"held_out_loss":{{heldOut}},"sync_s":0.001,"world_size":2,"rank":0}""";
            File.WriteAllText(metrics, Line(1) + "\n" + Line(2, """{"t":2.0}""") + "\n" + Line(3)[..20]); // the third line is still being written
            follower.Poll();
            Assert.Equal([1L, 2, 2], events.Select(e => e.Step));
            Assert.IsType<HeldOutEvaluated>(events[2]);
            File.AppendAllText(metrics, Line(3)[20..] + "\n");
            Directory.CreateDirectory(Path.Combine(dir, "checkpoints", "step-3"));
            Directory.CreateDirectory(Path.Combine(dir, "checkpoints", ".tmp-step-4-1"));
            follower.Poll();
            follower.Poll();
            Assert.Equal(5, events.Count);
            var step = Assert.IsType<StepCompleted>(events[3]);
            Assert.Equal((3L, 10L, 192L), (step.Step, step.TotalSteps, step.TokensSeen));
            Assert.Equal(3, Assert.IsType<CheckpointWritten>(events[4]).Step);
        }
        finally
        {
            TestService.TryDelete(dir);
        }
    }

    [Fact]
    public void A_failed_job_is_described_by_its_ranks_naming_the_one_that_failed_or_vanished()
    {
        var beats = new[]
        {
            new Heartbeat("j", 0, 100, "node1", 40, true, "all_reduce", 12, 50_000, Heartbeat.Training),
            new Heartbeat("j", 1, 101, "node2", 39, false, "all_reduce", 12, 50_000, Heartbeat.Failed, "non-finite loss"),
            new Heartbeat("j", 3, 103, "node2", 38, false, "", 11, 20_000, Heartbeat.Training),
        };
        using var output = new LaunchedTrainer.LauncherOutput(Path.GetTempFileName(), "mpirun ...");
        output.Line("step 12/40 loss 2.0");
        output.Line("mpirun noticed that process rank 1 with PID 101 on node node2 exited on signal 9 (Killed).");
        var reason = LaunchedTrainer.FailureReason(137, 4, beats, "/runs/x", output, endedUnixMs: 51_000);
        Assert.Contains("exited with code 137", reason);
        Assert.Contains("rank 0 (pid 100 on node1) stopped at step 12 without finishing (state training, inside collective 'all_reduce')", reason);
        Assert.Contains("rank 1 (pid 101 on node2) failed at step 12: non-finite loss", reason);
        Assert.Contains("rank 2 never reported", reason);
        // Rank 3's status went quiet 30 s before rank 0's: it is the one that died; it is named first.
        Assert.Contains("rank 3 (pid 103 on node2) stopped at step 11 without finishing (state training); it went silent first, 31.0 s before the job ended", reason);
        Assert.DoesNotContain("rank 0 (pid 100 on node1) stopped at step 12 without finishing (state training, inside collective 'all_reduce'); it went silent", reason);
        Assert.True(reason.IndexOf("rank 3", StringComparison.Ordinal) < reason.IndexOf("rank 0", StringComparison.Ordinal));
        Assert.Contains("process rank 1 with PID 101", reason);
        Assert.DoesNotContain("loss 2.0", reason);
        Assert.Contains("/runs/x/launcher.log", reason);
    }

    private sealed class Sync(Action<TrainingEvent> on) : IProgress<TrainingEvent>
    {
        public void Report(TrainingEvent value) => on(value);
    }
}
