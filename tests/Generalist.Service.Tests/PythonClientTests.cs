using System.Diagnostics;
using System.Text.Json;
using Generalist.Service.Api.V1;
using Grpc.Core;
using Grpc.Net.Client;
using Generalist.RunFormat;

namespace Generalist.Service.Tests;

/// <summary>
/// examples/python/generalist_client.py, on Debian's python3-grpcio and python3-grpc-tools
/// (apt-get install python3-grpcio python3-grpc-tools), against a live `generalist serve` with an
/// API key: it creates a tiny run, streams its steps to the end, and evaluates its checkpoint.
/// </summary>
[Collection(LiveTraining.Collection)]
public class PythonClientTests
{
    private const string Python = "/usr/bin/python3";
    private const string ApiKey = "python-client-key-0123456789";
    private const int Steps = 20;

    [Fact]
    [Trait("Category", "Slow")]
    public async Task The_Python_client_creates_a_run_streams_its_steps_and_evaluates_its_checkpoint()
    {
        var probe = Run(Python, ["-c", "import grpc, grpc_tools.protoc"], null, TimeSpan.FromSeconds(60));
        Assert.True(probe.ExitCode == 0, "python3-grpcio / python3-grpc-tools missing: apt-get install python3-grpcio python3-grpc-tools (.ci/run does this)\n" + probe.Stderr);
        var work = Directory.CreateTempSubdirectory("generalist-python-").FullName;
        var root = Directory.CreateDirectory(Path.Combine(work, "data")).FullName;
        using var serve = Cli.Start("serve", "--data-root", root, "--port", "0", "--metrics-port", "0", "--api-key", ApiKey);
        try
        {
            _ = serve.StandardError.ReadToEndAsync();
            var (grpc, _) = await Cli.WaitUntilListeningAsync(serve);
            var config = Path.Combine(work, "run.json");
            var tiny = PrometheusTelemetryTests.TinyRun("py-run") with
            {
                Steps = Steps,
                Checkpoint = new RunFormat.CheckpointConfig { Every = 0 },
                HeldOut = new RunFormat.HeldOutConfig { Every = 10, Batches = 1 },
            };
            File.WriteAllText(config, tiny.ToJson());

            var script = Path.Combine(TelemetryTable.RepositoryRoot(), "examples", "python", "generalist_client.py");
            var client = Run(Python, [script, "--server", grpc, "--config", config, "--name", "py-run", "--suite", "control", "--episodes", "2"],
                new Dictionary<string, string?> { ["GENERALIST_API_KEY"] = ApiKey }, TimeSpan.FromMinutes(8));
            Assert.True(client.ExitCode == 0, $"exit {client.ExitCode}\n{client.Stdout}\n{client.Stderr}");
            var lines = client.Stdout.Split('\n', StringSplitOptions.RemoveEmptyEntries);
            Assert.Equal(Steps, lines.Count(l => l.StartsWith("step ", StringComparison.Ordinal)));
            Assert.Contains(lines, l => l.StartsWith($"step {Steps}/{Steps} loss ", StringComparison.Ordinal) && l.Contains("cartpole="));
            Assert.Contains(lines, l => l.StartsWith("held-out at step 10:", StringComparison.Ordinal));

            var summary = JsonDocument.Parse(lines[^1]).RootElement;
            Assert.Equal("succeeded", summary.GetProperty("state").GetString());
            var evaluation = summary.GetProperty("evaluation");
            Assert.Equal("succeeded", evaluation.GetProperty("state").GetString());
            Assert.Equal($"runs/py-run/checkpoints/step-{Steps}", evaluation.GetProperty("checkpoint").GetString());
            Assert.Equal(JsonValueKind.Number, evaluation.GetProperty("scores").GetProperty("cartpole").ValueKind);

            using var channel = GrpcChannel.ForAddress(grpc);
            var run = await new Runs.RunsClient(channel).GetRunAsync(new GetRunRequest { Name = "py-run" }, new Metadata { { "authorization", $"Bearer {ApiKey}" } });
            Assert.Equal(JobState.Succeeded, run.State);
            Assert.Equal(Steps, run.Step);

            // Without the key the service refuses it, and the client says so in one line.
            var refused = Run(Python, [script, "--server", grpc, "--name", "py-refused"], new Dictionary<string, string?> { ["GENERALIST_API_KEY"] = null }, TimeSpan.FromMinutes(2));
            Assert.Equal(1, refused.ExitCode);
            Assert.StartsWith("error: UNAUTHENTICATED", refused.Stderr.Trim());
        }
        finally
        {
            if (!serve.HasExited)
            {
                Process.Start("kill", ["-TERM", serve.Id.ToString()]).WaitForExit();
                if (!serve.WaitForExit(30_000)) serve.Kill(true);
            }
            TestService.TryDelete(work);
        }
    }

    private static (int ExitCode, string Stdout, string Stderr) Run(string file, string[] args, Dictionary<string, string?>? environment, TimeSpan timeout)
    {
        var psi = new ProcessStartInfo(file, args) { RedirectStandardOutput = true, RedirectStandardError = true };
        foreach (var (k, v) in environment ?? [])
        {
            if (v is null) psi.Environment.Remove(k);
            else psi.Environment[k] = v;
        }
        using var p = Process.Start(psi)!;
        var stdout = p.StandardOutput.ReadToEndAsync();
        var stderr = p.StandardError.ReadToEndAsync();
        if (!p.WaitForExit(timeout))
        {
            p.Kill(true);
            Assert.Fail($"{file} {string.Join(' ', args)} did not finish in {timeout}:\n{stdout.Result}\n{stderr.Result}");
        }
        return (p.ExitCode, stdout.Result, stderr.Result);
    }
}
