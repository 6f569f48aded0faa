using Generalist.Service.Api.V1;
using Generalist.Service.Hosting;
using Generalist.Service.Registry;
using Generalist.Training;
using Microsoft.Extensions.Options;

namespace Generalist.Service.Tests;

public class RestartTests
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
            registry.SetRunState("victim", JobState.Running, "started", started: true);
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
        Assert.Equal([JobState.Queued, JobState.Running, JobState.Interrupted, JobState.Queued, JobState.Running, JobState.Succeeded], history);
        var steps = (await svc.Checkpoints().ListCheckpointsAsync(new ListCheckpointsRequest { Run = "victim" })).Checkpoints.Select(c => c.Step);
        Assert.Equal([4L, 6, 8], steps);
        TestService.TryDelete(root);
    }

    [Fact]
    public async Task A_clean_stop_interrupts_the_running_run_at_a_checkpoint_and_keeps_queued_ones()
    {
        var trainer = new FakeTrainer { Gate = new SemaphoreSlim(0) };
        var svc = await TestService.StartAsync(trainer: trainer);
        await svc.Runs().CreateRunAsync(Rpc.Quick("long", steps: 10, every: 100));
        await svc.Runs().CreateRunAsync(Rpc.Quick("next", steps: 2));
        trainer.Gate.Release(3);
        await svc.WaitForAsync("long", r => r.Step == 3);

        var trainer2 = new FakeTrainer();
        await using var restarted = await svc.RestartAsync(trainer: trainer2);
        var registry = restarted.Service<RunRegistry>();
        Assert.Equal(JobState.Interrupted, registry.GetRun("long")!.State);
        Assert.Equal("runs/long/checkpoints/step-3", registry.GetRun("long")!.LastCheckpoint);
        // The queued run was never lost: it runs after the restart.
        await restarted.WaitForStateAsync("next", JobState.Succeeded);
        await restarted.Runs().ResumeRunAsync(new ResumeRunRequest { Name = "long" });
        var done = await restarted.WaitForStateAsync("long", JobState.Succeeded);
        Assert.Equal(10, done.Step);
        Assert.Contains(("long", true, 3L), trainer2.Calls);
    }

    [Fact]
    public void The_registry_schema_is_versioned_and_a_newer_file_is_refused()
    {
        var root = Directory.CreateTempSubdirectory("generalist-schema-").FullName;
        try
        {
            using (var registry = new RunRegistry(new DataLayout(root), TimeProvider.System))
                Assert.Equal(1, registry.SchemaVersion());
            using (var db = new Microsoft.Data.Sqlite.SqliteConnection($"Data Source={Path.Combine(root, "registry.db")};Pooling=False"))
            {
                db.Open();
                using var cmd = db.CreateCommand();
                cmd.CommandText = "PRAGMA user_version = 99";
                cmd.ExecuteNonQuery();
            }
            var e = Assert.Throws<InvalidDataException>(() => new RunRegistry(new DataLayout(root), TimeProvider.System));
            Assert.Contains("schema version 99", e.Message);
        }
        finally
        {
            TestService.TryDelete(root);
        }
    }

    [Theory]
    [InlineData("Service:Port", "70000", "Service:Port")]
    [InlineData("Service:MaxConcurrentRuns", "0", "Service:MaxConcurrentRuns")]
    [InlineData("Service:BindAddress", "everywhere", "Service:BindAddress")]
    [InlineData("Service:ApiKey", "short", "Service:ApiKey")]
    [InlineData("Service:MaxMessageBytes", "10", "Service:MaxMessageBytes")]
    public async Task Bad_options_stop_the_service_at_start_naming_the_field(string key, string value, string field)
    {
        var e = await Assert.ThrowsAsync<OptionsValidationException>(() => TestService.StartAsync(new() { [key] = value }));
        Assert.Contains(field, e.Message);
    }
}
