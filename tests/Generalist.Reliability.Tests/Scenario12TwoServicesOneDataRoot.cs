using System.Diagnostics;
using Generalist.Service.Api.V1;
using Generalist.Service.Hosting;
using Generalist.Service.Kernel;
using Generalist.Service.Registry;
using JobState = Generalist.Service.Api.V1.JobState;
using StoredState = Generalist.Service.Registry.JobState;
using Generalist.Service.Tests;
using Generalist.Training.Ownership;
using Generalist.Training.Tests;
using Grpc.Core;
using Grpc.Net.Client;
using CliChild = Generalist.Service.Tests.Cli;
using Xunit.Abstractions;
using Generalist.RunFormat;

namespace Generalist.Reliability.Tests;

/// <summary>
/// Issue 18, scenario 12: two services meet on one data root, and a trainer outlives its service.
/// The service holds its data root's lock (<see cref="DataRootLock"/>) from before the registry
/// opens until it is disposed, so a second `generalist serve` there is refused at start naming the
/// first, and the first's live run is not marked interrupted nor trained a second time (before:
/// it was, its metrics.jsonl went from 19 lines to 1, and both trainers' checkpoints mixed). A run
/// whose directory a live trainer still holds is never resumed.
/// </summary>
public class Scenario12TwoServicesOneDataRoot(ITestOutputHelper output)
{
    [Fact]
    public async Task A_second_service_on_a_live_data_root_is_refused_naming_the_first_and_the_live_run_is_untouched()
    {
        var figures = new Figures(output, "12");
        var trainer = new FakeTrainer { Gate = new SemaphoreSlim(0) };
        await using var first = await TestService.StartAsync(trainer: trainer);
        var config = new RunConfig { Name = "live", Steps = 10, Checkpoint = new CheckpointConfig { Every = 2 } };
        await first.Runs().CreateRunAsync(new CreateRunRequest { ConfigJson = config.ToJson() });
        trainer.Gate.Release(5);
        await first.WaitForAsync("live", r => r.State == JobState.Running && r.Step >= 5);
        var metrics = Path.Combine(first.DataRoot, "runs", "live", "metrics.jsonl");
        var before = await File.ReadAllBytesAsync(metrics);

        var clock = Stopwatch.StartNew();
        var refused = await Assert.ThrowsAsync<DirectoryInUseException>(() => TestService.StartAsync(dataRoot: first.DataRoot));
        figures.Add("second service on a live data root: refused after (in-process host)", clock.Elapsed.TotalMilliseconds, "ms");
        output.WriteLine(refused.Message);
        Assert.Contains($"data root {first.DataRoot} is in use by generalist serve (pid {Environment.ProcessId} on {Environment.MachineName}", refused.Message);

        var live = await first.Runs().GetRunAsync(new GetRunRequest { Name = "live" });
        Assert.Equal(JobState.Running, live.State);
        Assert.Equal([StoredState.Queued, StoredState.Running], first.Service<RunRegistry>().StateHistory("runs", "live").Select(s => s.State));
        Assert.Equal(before, await File.ReadAllBytesAsync(metrics));
        Assert.Single(trainer.Calls); // no second trainer

        trainer.Gate.Release(5);
        var done = await first.WaitForStateAsync("live", JobState.Succeeded);
        Assert.Equal(10, done.Step);
        Assert.Equal(10, File.ReadAllLines(metrics).Length);
    }

    [Fact]
    public async Task Once_the_first_service_is_gone_the_next_one_starts_on_its_data_root()
    {
        var root = Directory.CreateTempSubdirectory("generalist-root-").FullName;
        try
        {
            await (await TestService.StartAsync(dataRoot: root)).DisposeAsync();
            Assert.False(DirectoryLock.IsHeld(root, DataRootLock.FileName, out _));
            await using var second = await TestService.StartAsync(dataRoot: root);
            Assert.True(DirectoryLock.IsHeld(root, DataRootLock.FileName, out var holder));
            Assert.Equal(Environment.ProcessId, holder!.Pid);
        }
        finally
        {
            TestService.TryDelete(root);
        }
    }

    [Fact]
    public async Task For_real_a_second_generalist_serve_exits_2_with_one_line_naming_the_first_which_keeps_serving()
    {
        var figures = new Figures(output, "12");
        var root = Directory.CreateTempSubdirectory("generalist-two-serve-").FullName;
        using var first = CliChild.Start("serve", "--data-root", root, "--port", "0", "--metrics-port", "0");
        try
        {
            var (grpc, _) = await CliChild.WaitUntilListeningAsync(first);
            _ = first.StandardError.ReadToEndAsync();
            var registry = await File.ReadAllBytesAsync(Path.Combine(root, "registry.db"));

            var clock = Stopwatch.StartNew();
            var (code, stdout, stderr) = CliChild.Run(null, "serve", "--data-root", root, "--port", "0", "--metrics-port", "0");
            figures.Add("second generalist serve on a live data root: exit after (process start included)", clock.Elapsed.TotalSeconds, "s");
            output.WriteLine(stderr);
            Assert.Equal(2, code);
            Assert.Equal("", stdout);
            var line = Assert.Single(stderr.Split('\n', StringSplitOptions.RemoveEmptyEntries));
            Assert.Contains($"is in use by generalist serve (pid {first.Id} on ", line);
            Assert.DoesNotContain("Exception", line);
            Assert.Equal(registry, await File.ReadAllBytesAsync(Path.Combine(root, "registry.db")));

            using var channel = GrpcChannel.ForAddress(grpc);
            Assert.Empty((await new Runs.RunsClient(channel).ListRunsAsync(new ListRunsRequest())).Runs);
        }
        finally
        {
            first.Kill();
            first.WaitForExit(30_000);
            TestService.TryDelete(root);
        }
    }

    [Fact]
    public async Task ResumeRun_is_refused_while_a_trainer_of_an_earlier_service_still_holds_the_run_directory()
    {
        var root = Directory.CreateTempSubdirectory("generalist-orphan-").FullName;
        try
        {
            // What a service killed under a launched job leaves: a row `running`, and ranks still training.
            var config = new RunConfig { Name = "orphaned", Steps = 8, Checkpoint = new CheckpointConfig { Every = 2 } };
            using (var registry = new RunRegistry(new DataLayout(root), TimeProvider.System))
            {
                registry.InsertRun("orphaned", config.ToJson(), 8);
                registry.SetRunState("orphaned", StoredState.Running, "started", started: true);
            }
            var run = Path.Combine(root, "runs", "orphaned");
            var orphan = RunDirectoryLock.Acquire(run, "generalist train");
            File.WriteAllText(Path.Combine(run, "metrics.jsonl"), "{\"step\":1}\n");

            var trainer = new FakeTrainer();
            await using var svc = await TestService.StartAsync(dataRoot: root, trainer: trainer);
            Assert.Equal(JobState.Interrupted, (await svc.Runs().GetRunAsync(new GetRunRequest { Name = "orphaned" })).State);
            var status = await Rpc.FailsWith(StatusCode.FailedPrecondition, () => svc.Runs().ResumeRunAsync(new ResumeRunRequest { Name = "orphaned" }).ResponseAsync);
            output.WriteLine(status.Message);
            Assert.Contains($"still held by generalist train (pid {Environment.ProcessId}", status.Message);
            Assert.Equal(JobState.Interrupted, (await svc.Runs().GetRunAsync(new GetRunRequest { Name = "orphaned" })).State);
            Assert.Empty(trainer.Calls);
            Assert.Equal("{\"step\":1}\n", File.ReadAllText(Path.Combine(run, "metrics.jsonl")));

            orphan.Dispose(); // the orphan stops (its lease lapsed)
            await svc.Runs().ResumeRunAsync(new ResumeRunRequest { Name = "orphaned" });
            await svc.WaitForStateAsync("orphaned", JobState.Succeeded);
            Assert.Single(trainer.Calls);
        }
        finally
        {
            TestService.TryDelete(root);
        }
    }
}
