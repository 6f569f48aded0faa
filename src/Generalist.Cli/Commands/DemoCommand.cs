using System.CommandLine;
using System.Text.Json;
using Generalist.Evaluation.Reporting;
using Generalist.Service.Hosting;
using Generalist.Service.Api.V1;
using Generalist.Torch;
using Grpc.Core;
using Microsoft.Extensions.DependencyInjection;
using Generalist.RunFormat;

namespace Generalist.Cli.Commands;

/// <summary>
/// `generalist demo`: the main job on embedded defaults. Starts the service in-process on free
/// loopback ports, launches a small multi-task run through the gRPC API, watches it, evaluates the
/// newest checkpoint on the `default` suite through the API, and writes a report under checkpoints/demo.
/// </summary>
public static class DemoCommand
{
    /// <summary>Training steps of the demo run: enough for the agent to act (cartpole and catch at
    /// the expert's level, most mnist captions right) within the demo's ten minutes on 2 cores.</summary>
    public const int DefaultSteps = 1200;

    /// <summary>
    /// The demo's run: two control tasks (one from values, one from pixels), mnist captions, text and
    /// in-context regression; control and captions weigh more because the report judges the agent
    /// by what it does (catch most: at weight 2 it reached 77 normalized, cartpole and mnist 100). 16 rows of 128 tokens keep a step at the tokens of the 8 x 256 presets
    /// while cutting attention cost; 1200 steps give cartpole about the tokens of a 300-step
    /// specialist, which acts at the expert's level with the default state-coverage noise.
    /// </summary>
    public static RunConfig DefaultConfig(string name) => new()
    {
        Name = name,
        Preset = "tiny",
        Tasks = [new("cartpole", 2), new("catch", 3), new("mnist", 2), new("text", 1), new("icl-regression", 1)],
        Steps = DefaultSteps,
        BatchSize = 16,
        ContextLength = 128,
        EpisodesPerTask = 64,
        Checkpoint = new CheckpointConfig { Every = 400, KeepLast = 2 },
        HeldOut = new HeldOutConfig { Every = 200, Batches = 1 },
    };

    public static Command Create()
    {
        var output = new Option<string>("--out") { Description = "Where the service data and the report go.", DefaultValueFactory = _ => Path.Combine("checkpoints", "demo") };
        var steps = new Option<int>("--steps") { Description = $"Training steps of the demo run (default {DefaultSteps}: about 7 minutes on 2 cores).", DefaultValueFactory = _ => DefaultSteps };
        var episodes = new Option<int>("--episodes") { Description = "Evaluation episodes per control task (the default suite caps them at 50).", DefaultValueFactory = _ => 50 };
        var json = CliApp.JsonOption();
        var command = new Command("demo", "Prepare data, start the service, train a small multi-task model through the API, evaluate it and write a report.")
            { output, steps, episodes, json };
        command.SetAction(async (parse, ct) =>
        {
            var s = parse.GetValue(steps);
            if (s is < 1 or > 100_000) throw new CliInputException($"--steps must be in [1, 100000] (got {s})");
            var e = parse.GetValue(episodes);
            if (e is < 1 or > 1000) throw new CliInputException($"--episodes must be in [1, 1000] (got {e})");
            return await RunAsync(Path.GetFullPath(parse.GetValue(output)!), s, e, parse.GetValue(json), ct);
        });
        return command;
    }

    private static async Task<int> RunAsync(string root, int steps, int episodes, bool json, CancellationToken ct)
    {
        TorchRuntime.EnsureLoaded();
        Directory.CreateDirectory(root);
        var name = $"demo-{DateTime.UtcNow:yyyyMMdd-HHmmss}";
        var config = DefaultConfig(name) with { Steps = steps };
        var log = json ? Console.Error : Console.Out;

        log.WriteLine($"[1/4] preparing data for {string.Join(", ", config.Tasks.Select(t => t.Name))}");
        await DataCommand.PrepareForDemoAsync(config.Tasks.Select(t => t.Name).ToList(), config.EpisodesPerTask, config.MinTimestepsPerTask, config.Seed, log, ct);

        var app = GeneralistServiceHost.Build(new ServiceHostSettings
        {
            Configuration = new Dictionary<string, string?>
            {
                ["Service:DataRoot"] = root,
                ["Service:Port"] = "0",
                ["Service:MetricsPort"] = "0",
                ["Service:BindAddress"] = "127.0.0.1",
                // The demo prints its own progress; the host's request logs would drown it.
                ["Logging:LogLevel:Default"] = "Warning",
            },
        });
        await app.StartAsync(ct);
        try
        {
            var endpoints = app.Services.GetRequiredService<ServiceEndpoints>();
            log.WriteLine($"[2/4] service listening: grpc={endpoints.GrpcAddress} metrics={endpoints.MetricsAddress}metrics");
            using var service = ServiceClient.ForAddress(endpoints.GrpcAddress);
            var runs = new Runs.RunsClient(service.Invoker);
            var run = await runs.CreateRunAsync(new CreateRunRequest { ConfigJson = config.ToJson() }, cancellationToken: ct);
            log.WriteLine($"[3/4] training run {run.Name} ({run.TotalSteps} steps, preset {config.Preset}) through the gRPC API");
            var watched = await RunWatch.WatchAsync(service, run.Name, json: false, ct);
            run = await runs.GetRunAsync(new GetRunRequest { Name = run.Name }, cancellationToken: ct);
            if (watched != ExitCodes.Ok || run.State != JobState.Succeeded)
            {
                Console.Error.WriteLine($"error: run {run.Name} ended {RunView.State(run.State)}: {run.FailureReason}");
                return ExitCodes.Failed;
            }

            log.WriteLine($"[4/4] evaluating the newest checkpoint on the default suite (up to {episodes} episodes per control task)");
            var evaluations = new Evaluations.EvaluationsClient(service.Invoker);
            var evaluation = await evaluations.CreateEvaluationAsync(
                new CreateEvaluationRequest { Run = run.Name, Suite = "default", Episodes = episodes }, cancellationToken: ct);
            using (var watch = evaluations.WatchEvaluation(new WatchEvaluationRequest { Name = evaluation.Name }, cancellationToken: ct))
            {
                await foreach (var ev in watch.ResponseStream.ReadAllAsync(ct))
                    // The evaluator's last progress event (no task) only says that every task is done.
                    if (ev.EventCase == EvaluationEvent.EventOneofCase.Progress && ev.Progress.Task.Length > 0)
                        log.WriteLine($"  {ev.Progress.Task}: {ev.Progress.Done}/{ev.Progress.Total}");
            }
            evaluation = await evaluations.GetEvaluationAsync(new GetEvaluationRequest { Name = evaluation.Name }, cancellationToken: ct);
            if (evaluation.State != JobState.Succeeded)
            {
                Console.Error.WriteLine($"error: evaluation {evaluation.Name} ended {RunView.State(evaluation.State)}: {evaluation.FailureReason}");
                return ExitCodes.Failed;
            }

            var report = DemoReport.Write(root, run, Path.Combine(root, evaluation.Checkpoint));
            if (json) CliApp.WriteJson(new { run = run.Name, checkpoint = evaluation.Checkpoint, report });
            else log.WriteLine($"report: {report}");
            return ExitCodes.Ok;
        }
        finally
        {
            await app.StopAsync(CancellationToken.None);
            await app.DisposeAsync();
        }
    }
}
