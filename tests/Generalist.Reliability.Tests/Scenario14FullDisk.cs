using Generalist.Service.Api.V1;
using Generalist.Service.Jobs;
using StoredState = Generalist.Service.Registry.JobState;
using Generalist.Service.Tests;
using Generalist.Training;
using Generalist.Training.Loop;
using Generalist.Training.Tests;
using Grpc.Core;
using Xunit.Abstractions;
using Generalist.RunFormat;
using Generalist.RunFormat.Checkpointing;
using Generalist.TestSupport;

namespace Generalist.Reliability.Tests;

/// <summary>
/// Issue 18, scenario 14: the disk fills up. On a real, small tmpfs: a checkpoint write that hits
/// ENOSPC fails the run naming the full disk, leaves no temporary directory, and the checkpoints
/// and metrics already written are the same bytes; a metrics line that does not fit is not left
/// half-written; after space is freed, resume continues. Through the service, the run ends failed
/// with the disk's reason (never "running" with no trainer), the RPCs answer UNAVAILABLE or
/// FAILED_PRECONDITION in words (never "Exception was thrown by handler"), and the next start
/// records what the full disk kept from the registry.
/// </summary>
public class Scenario14FullDisk(ITestOutputHelper output)
{
    private TmpfsMount? Mount(int kibibytes)
    {
        var mount = TmpfsMount.TryCreate(kibibytes);
        if (mount is null) output.WriteLine("not run: mounting a tmpfs needs root (or CAP_SYS_ADMIN)");
        return mount;
    }

    private static Dictionary<string, byte[]> Snapshot(string dir) =>
        Directory.GetFiles(dir, "*", SearchOption.AllDirectories).ToDictionary(f => Path.GetRelativePath(dir, f), File.ReadAllBytes);

    [Fact]
    public void A_checkpoint_write_on_a_full_disk_fails_naming_it_keeps_every_earlier_byte_and_leaves_no_temporary_directory()
    {
        using var disk = Mount(8192);
        if (disk is null) return;
        var run = Path.Combine(disk.Path, "run");
        var config = TrainerHarness.Config(10, c => c with { HeldOut = new HeldOutConfig { Every = 0 } });
        Dictionary<string, byte[]>? before = null;
        string? filler = null;
        var faults = new FaultInjection
        {
            CheckpointPhase = (step, phase) =>
            {
                if (step != 5 || phase != "model-written" || filler is not null) return;
                before = Snapshot(Path.Combine(run, "checkpoints", "step-0"));
                before["metrics.jsonl"] = File.ReadAllBytes(Path.Combine(run, "metrics.jsonl"));
                filler = disk.Fill(); // the optimizer's file now finds no space
            },
        };
        var e = Assert.Throws<IOException>(() => TrainerHarness.Run(config, run, faults: faults));
        output.WriteLine(e.Message);
        Assert.Contains("checkpoint of step 5 could not be written", e.Message);
        Assert.Contains("the disk is full", e.Message);
        Assert.Empty(Directory.GetDirectories(Path.Combine(run, "checkpoints"), ".tmp-*"));
        Assert.Equal([0L], new CheckpointStore(new CheckpointOptions(Path.Combine(run, "checkpoints"), 3)).List().Select(c => c.Step));
        var after = Snapshot(Path.Combine(run, "checkpoints", "step-0"));
        after["metrics.jsonl"] = File.ReadAllBytes(Path.Combine(run, "metrics.jsonl"));
        Assert.Equal(before!.Keys.Order(), after.Keys.Order());
        foreach (var (name, bytes) in before) Assert.True(bytes.AsSpan().SequenceEqual(after[name]), $"{name} changed");

        File.Delete(filler!);
        var (result, _, _) = TrainerHarness.Run(config, run, resume: true);
        Assert.Equal(TrainingOutcome.Completed, result.Outcome);
        Assert.Equal(Enumerable.Range(1, 10).Select(i => (long)i), MetricsLog.Read(Path.Combine(run, "metrics.jsonl")).Select(l => l.Step));
    }

    [Fact]
    public void A_metrics_line_that_does_not_fit_is_not_left_half_written_and_resume_continues()
    {
        using var disk = Mount(8192);
        if (disk is null) return;
        var run = Path.Combine(disk.Path, "run");
        var config = TrainerHarness.Config(10, c => c with { HeldOut = new HeldOutConfig { Every = 0 } });
        string? filler = null;
        var e = Assert.Throws<IOException>(() => TrainerHarness.Run(config, run, onEvent: ev =>
        {
            if (ev is StepCompleted { Step: 7 } && filler is null) filler = disk.Fill();
        }));
        output.WriteLine(e.Message);
        // tmpfs fills by pages: the line that does not fit comes a step or two after the disk filled.
        var failedAt = int.Parse(System.Text.RegularExpressions.Regex.Match(e.Message, @"step (\d+) could not be appended").Groups[1].Value);
        Assert.InRange(failedAt, 8, 10);
        Assert.Contains("the disk is full", e.Message);
        var text = File.ReadAllText(Path.Combine(run, "metrics.jsonl"));
        Assert.EndsWith("\n", text); // cut back to the last whole line
        Assert.Equal(Enumerable.Range(1, failedAt - 1).Select(i => (long)i), MetricsLog.Read(Path.Combine(run, "metrics.jsonl")).Select(l => l.Step));

        File.Delete(filler!);
        var (result, _, _) = TrainerHarness.Run(config, run, resume: true);
        Assert.Equal(TrainingOutcome.Completed, result.Outcome);
        Assert.Equal(Enumerable.Range(1, 10).Select(i => (long)i), MetricsLog.Read(Path.Combine(run, "metrics.jsonl")).Select(l => l.Step));
    }

    [Fact]
    public async Task Through_the_service_a_full_data_root_fails_the_run_naming_the_disk_and_every_RPC_answers_in_words()
    {
        using var disk = Mount(8192);
        if (disk is null) return;
        var root = Path.Combine(disk.Path, "root");
        var trainer = new FakeTrainer { Gate = new SemaphoreSlim(0) };
        await using (var svc = await TestService.StartAsync(dataRoot: root, trainer: trainer))
        {
            var runs = svc.Runs();
            await runs.CreateRunAsync(new CreateRunRequest { ConfigJson = new RunConfig { Name = "victim", Steps = 20, Checkpoint = new CheckpointConfig { Every = 0 } }.ToJson() });
            trainer.Gate.Release(3);
            await svc.WaitForAsync("victim", r => r.Step >= 3);
            disk.Fill();
            trainer.Gate.Release(17);
            var failed = await svc.WaitForAsync("victim", r => r.State != JobState.Running && r.State != JobState.Queued);
            output.WriteLine($"{failed.State}: {failed.FailureReason}");
            Assert.Equal(JobState.Failed, failed.State);
            Assert.Contains("the disk is full", failed.FailureReason);

            // A new run on the full disk: refused in words (or, if SQLite still had room in its WAL, accepted).
            try
            {
                await runs.CreateRunAsync(new CreateRunRequest { ConfigJson = new RunConfig { Name = "second", Steps = 2 }.ToJson() });
                output.WriteLine("CreateRun on the full disk: accepted (the registry's WAL still had room)");
            }
            catch (RpcException r)
            {
                output.WriteLine($"CreateRun on the full disk: {r.StatusCode}: {r.Status.Detail}");
                Assert.Equal(StatusCode.Unavailable, r.StatusCode);
                Assert.Contains("disk is full", r.Status.Detail);
            }
            var cancel = await Assert.ThrowsAsync<RpcException>(() => runs.CancelRunAsync(new CancelRunRequest { Name = "victim" }).ResponseAsync);
            Assert.Equal(StatusCode.FailedPrecondition, cancel.StatusCode);
            Assert.DoesNotContain("Exception was thrown", cancel.Status.Detail);
        }
        File.Delete(Path.Combine(disk.Path, "filler"));

        // The next start: the run is failed, with the disk's reason, whichever record kept it.
        await using var next = await TestService.StartAsync(dataRoot: root, trainer: new FakeTrainer());
        var recorded = await next.Runs().GetRunAsync(new GetRunRequest { Name = "victim" });
        Assert.Equal(JobState.Failed, recorded.State);
        Assert.Contains("the disk is full", recorded.FailureReason);
    }

    [Fact]
    public void The_outcome_file_is_reserved_at_start_and_written_in_place_without_growing()
    {
        using var dir = new TempDir("goutcome");
        Assert.True(RunOutcomeFile.Reserve(dir.Path));
        Assert.Null(RunOutcomeFile.Read(dir.Path));
        var size = new FileInfo(Path.Combine(dir.Path, RunOutcomeFile.FileName)).Length;
        Assert.True(RunOutcomeFile.TryWrite(dir.Path, StoredState.Failed, "the disk is full"));
        Assert.Equal(size, new FileInfo(Path.Combine(dir.Path, RunOutcomeFile.FileName)).Length);
        Assert.Equal((StoredState.Failed, "the disk is full"), RunOutcomeFile.Read(dir.Path));
    }
}
