using System.Diagnostics;
using System.Text.Json;
using Generalist.Evaluation;
using Generalist.Service.Api.V1;
using Generalist.Service.Hosting;
using Generalist.Service.Jobs;
using Generalist.Service.Registry;
using Generalist.Service.Scheduling;
using Generalist.Studies;
using Generalist.Training;
using Microsoft.AspNetCore.Builder;
using Microsoft.Extensions.DependencyInjection;
using Generalist.RunFormat;

namespace Generalist.Service.Tests;

/// <summary>The `generalist` CLI as a user runs it, against services listening on 127.0.0.1.</summary>
public class CliEndToEndTests
{
    /// <summary>Every field name in the CLI's --json output is snake_case, as the README promises
    /// (keys of maps that hold data, such as task names in task_loss, are not field names).</summary>
    private static void AssertSnakeCase(string json)
    {
        static void Walk(JsonElement e, string path)
        {
            if (e.ValueKind == JsonValueKind.Object)
                foreach (var p in e.EnumerateObject())
                {
                    if (path.EndsWith("task_loss") || path.EndsWith("metrics") || path.EndsWith("labels")) continue;
                    Assert.True(System.Text.RegularExpressions.Regex.IsMatch(p.Name, "^[a-z][a-z0-9_]*$"), $"{path}.{p.Name} is not snake_case");
                    Walk(p.Value, path + "." + p.Name);
                }
            else if (e.ValueKind == JsonValueKind.Array)
                foreach (var item in e.EnumerateArray()) Walk(item, path + "[]");
        }
        using var doc = JsonDocument.Parse(json);
        Walk(doc.RootElement, "$");
    }

    [Fact]
    public async Task The_CLI_creates_watches_cancels_resumes_and_lists_runs_over_real_sockets()
    {
        var root = Directory.CreateTempSubdirectory("generalist-cli-e2e-").FullName;
        var trainer = new FakeTrainer { StepDelay = TimeSpan.FromMilliseconds(2) };
        await using var app = GeneralistServiceHost.Build(new ServiceHostSettings
        {
            Configuration = new Dictionary<string, string?>
            {
                ["Service:DataRoot"] = root, ["Service:Port"] = "0", ["Service:MetricsPort"] = "0",
                ["Service:ApiKey"] = "e2e-key-0123456789", ["Logging:LogLevel:Default"] = "Warning",
            },
            ConfigureServices = s =>
            {
                s.AddSingleton<ITrainer>(trainer);
                s.AddSingleton<IEvaluator>(new FakeEvaluator());
                s.AddSingleton<IStudyRunner>(new FakeStudyRunner());
            },
        });
        // Each run waits (bounded) until a CLI process watches it, so the watch sees every event.
        var hub = app.Services.GetRequiredService<EventHub<JobEvent<RunRecord>>>();
        trainer.BeforeStart = async c =>
        {
            for (var i = 0; i < 3000 && hub.SubscriberCount(c.Name) == 0; i++) await Task.Delay(10);
        };
        await app.StartAsync();
        try
        {
            var server = app.Services.GetRequiredService<ServiceEndpoints>().GrpcAddress.ToString();
            var env = new Dictionary<string, string?> { ["GENERALIST_API_KEY"] = "e2e-key-0123456789" };
            var config = Path.Combine(root, "run.json");
            await File.WriteAllTextAsync(config, new RunConfig { Name = "cli-run", Steps = 6, Checkpoint = new CheckpointConfig { Every = 3 } }.ToJson());

            var create = Cli.Run(env, "runs", "create", "--config", config, "--watch", "--server", server);
            Assert.True(create.ExitCode == 0, create.Stderr + create.Stdout);
            Assert.Contains("checkpoint runs/cli-run/checkpoints/step-3", create.Stdout);
            Assert.Contains("run cli-run ended succeeded", create.Stdout);

            var list = Cli.Run(env, "runs", "list", "--json", "--server", server);
            Assert.Equal(0, list.ExitCode);
            using (var doc = JsonDocument.Parse(list.Stdout))
            {
                var run = doc.RootElement.GetProperty("runs")[0];
                Assert.Equal("cli-run", run.GetProperty("name").GetString());
                Assert.Equal("JOB_STATE_SUCCEEDED", run.GetProperty("state").GetString());
                Assert.Equal("6", run.GetProperty("step").GetString());
            }
            AssertSnakeCase(list.Stdout);
            var checkpoints = Cli.Run(env, "checkpoints", "list", "cli-run", "--json", "--server", server);
            AssertSnakeCase(checkpoints.Stdout);
            using (var doc = JsonDocument.Parse(checkpoints.Stdout))
                Assert.Equal(2, doc.RootElement.GetProperty("checkpoints").GetArrayLength());
            var newest = Cli.Run(env, "checkpoints", "get", "cli-run", "--server", server);
            Assert.Contains("cli-run step 6: runs/cli-run/checkpoints/step-6", newest.Stdout);

            var quick = Cli.Run(env, "runs", "create", "--name", "fields", "--tasks", "cartpole:2,text", "--steps", "2", "--json", "--server", server);
            Assert.True(quick.ExitCode == 0, quick.Stderr);
            AssertSnakeCase(quick.Stdout);
            using (var created = System.Text.Json.JsonDocument.Parse(quick.Stdout))
                Assert.Equal("fields", created.RootElement.GetProperty("name").GetString());
            var watch = Cli.Run(env, "runs", "watch", "fields", "--json", "--server", server);
            Assert.Equal(0, watch.ExitCode);
            Assert.Contains("JOB_STATE_SUCCEEDED", watch.Stdout.Split('\n', StringSplitOptions.RemoveEmptyEntries)[^1]);
            foreach (var line in watch.Stdout.Split('\n', StringSplitOptions.RemoveEmptyEntries)) AssertSnakeCase(line);

            var cancel = Cli.Run(env, "runs", "cancel", "cli-run", "--server", server);
            Assert.Equal(2, cancel.ExitCode);
            Assert.Equal("error: run 'cli-run' is succeeded; only queued or running runs can be cancelled", cancel.Stderr.Trim());
            var missing = Cli.Run(env, "runs", "get", "nobody", "--server", server);
            Assert.Equal(2, missing.ExitCode);
            Assert.Equal("error: run 'nobody' not found", missing.Stderr.Trim());
            var bad = Cli.Run(env, "runs", "create", "--name", "../escape", "--server", server);
            Assert.Equal(2, bad.ExitCode);
            Assert.StartsWith("error: name: must be 1-64 characters", bad.Stderr.Trim());
            var noKey = Cli.Run(new Dictionary<string, string?> { ["GENERALIST_API_KEY"] = null }, "runs", "list", "--server", server);
            Assert.Equal(2, noKey.ExitCode);
            Assert.Contains("API key", noKey.Stderr);
            var resume = Cli.Run(env, "runs", "resume", "cli-run", "--server", server);
            Assert.Equal(2, resume.ExitCode);
        }
        finally
        {
            await app.StopAsync();
            TestService.TryDelete(root);
        }
    }

    [Fact]
    public async Task generalist_serve_listens_answers_and_stops_on_SIGTERM_and_clients_of_a_dead_server_get_one_line()
    {
        var root = Directory.CreateTempSubdirectory("generalist-serve-").FullName;
        using var serve = Cli.Start("serve", "--data-root", root, "--port", "0", "--metrics-port", "0");
        try
        {
            var (grpc, metrics) = await Cli.WaitUntilListeningAsync(serve);

            var list = Cli.Run(null, "runs", "list", "--json", "--server", grpc);
            Assert.True(list.ExitCode == 0, list.Stderr);
            Assert.Equal(0, JsonDocument.Parse(list.Stdout).RootElement.GetProperty("runs").GetArrayLength());
            using var http = new HttpClient();
            Assert.Equal("Healthy", await http.GetStringAsync(metrics.Replace("/metrics", "/healthz")));
            Assert.Contains("target_info{service_name=\"generalist\"", await http.GetStringAsync(metrics));
            Assert.True(File.Exists(Path.Combine(root, "registry.db")));

            Process.Start("kill", ["-TERM", serve.Id.ToString()]).WaitForExit();
            Assert.True(serve.WaitForExit(30_000), "serve did not stop on SIGTERM");
            Assert.Equal(0, serve.ExitCode);

            var dead = Cli.Run(null, "runs", "list", "--server", grpc);
            Assert.Equal(1, dead.ExitCode);
            var error = Assert.Single(dead.Stderr.Split('\n', StringSplitOptions.RemoveEmptyEntries));
            Assert.StartsWith($"error: cannot reach the Generalist service at {grpc}", error);
        }
        finally
        {
            if (!serve.HasExited) serve.Kill(true);
            TestService.TryDelete(root);
        }
    }

    [Fact]
    public void Bad_serve_options_are_one_line_and_exit_2()
    {
        var r = Cli.Run(null, "serve", "--data-root", Path.GetTempPath(), "--port", "70000");
        Assert.Equal(2, r.ExitCode);
        Assert.Contains("Service:Port (--port): must be in [0, 65535] (got 70000)", r.Stderr);
        Assert.Single(r.Stderr.Split('\n', StringSplitOptions.RemoveEmptyEntries));
    }
}
