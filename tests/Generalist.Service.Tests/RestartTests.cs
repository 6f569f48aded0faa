using Generalist.Service.Api.V1;
using Generalist.Service.Kernel;
using Generalist.Service.Registry;
using JobState = Generalist.Service.Api.V1.JobState;
using Microsoft.Extensions.Options;

namespace Generalist.Service.Tests;

public class RestartTests
{
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
        Assert.Equal(Registry.JobState.Interrupted, registry.GetRun("long")!.State);
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
