using System.CommandLine;
using Generalist.Service.Api.V1;
using Spectre.Console;
using Generalist.RunFormat;

namespace Generalist.Cli.Commands;

/// <summary>`generalist runs create|list|get|watch|cancel|resume`: training runs through the service's gRPC API.</summary>
public static class RunsCommand
{
    public static Command Create() => new("runs", "Create, list, inspect, watch, cancel and resume training runs on the service.")
    {
        CreateRun(), List(), Get(), Watch(), Cancel(), Resume(),
    };

    private static Command CreateRun()
    {
        var client = new ServiceClient.Options();
        var config = new Option<string?>("--config") { Description = "Run config JSON file (fields below override it)." };
        var name = new Option<string?>("--name") { Description = RunNames.Rule };
        var preset = new Option<string?>("--preset") { Description = $"Model preset: {string.Join(", ", Generalist.Model.ModelPresets.Names)}." };
        var tasks = new Option<string?>("--tasks") { Description = $"Task mixture, {TaskList.Syntax}. Tasks: {TaskList.Known}." };
        var steps = new Option<int?>("--steps") { Description = "Optimizer steps, 1-10000000." };
        var precision = new Option<string?>("--precision") { Description = "fp32 or bf16." };
        var batchSize = new Option<int?>("--batch-size") { Description = "Sequences per micro-batch, 1-4096." };
        var seed = new Option<long?>("--seed") { Description = "Seed of init, data order and dropout." };
        var watch = new Option<bool>("--watch") { Description = "Then watch it until it ends (like `runs watch`)." };
        var ranks = new Option<int?>("--ranks") { Description = "Train on this many ranks, launched by the service's launcher (mpirun/srun); sets distributed.ranks." };
        var json = CliApp.JsonOption();
        var command = new Command("create",
            "Queue a training run; prints it at once (use --watch or `runs watch` to follow it). The flags are those of `generalist train`; " +
            "every config field with its default and range: `generalist config show`.")
            { config, name, preset, tasks, steps, precision, batchSize, seed, ranks, watch, json };
        client.AddTo(command);
        command.SetAction((parse, ct) => ServiceClient.GuardAsync(async () =>
        {
            var request = new CreateRunRequest();
            if (parse.GetValue(config) is { } file)
            {
                // Parsed and validated here too, so a bad file is named with its path before any call.
                var loaded = RunConfig.Load(file);
                request.ConfigJson = loaded.ToJson();
            }
            request.Name = parse.GetValue(name) ?? "";
            request.Preset = parse.GetValue(preset) ?? "";
            if (parse.GetValue(tasks) is { } taskText) request.Tasks.AddRange(TaskList.ToRequest(TaskList.Parse(taskText)));
            if (parse.GetValue(steps) is { } s)
            {
                if (s is < 1 or > 10_000_000) throw new CliInputException($"--steps must be in [1, 10000000] (got {s})");
                request.Steps = s;
            }
            if (parse.GetValue(seed) is { } sd) request.Seed = sd;
            if (request.ConfigJson.Length == 0 && request.Name.Length == 0)
                throw new CliInputException("give --config FILE or --name NAME (with --preset/--tasks/--steps)");
            if (parse.GetValue(ranks) is { } n and (< 1 or > 65536)) throw new CliInputException($"--ranks must be in [1, 65536] (got {n})");
            // Fields the request has no slot for travel in config_json (the service validates the whole config).
            if (parse.GetValue(ranks) is not null || parse.GetValue(precision) is not null || parse.GetValue(batchSize) is not null)
            {
                var basis = request.ConfigJson.Length > 0 ? RunConfig.Parse(request.ConfigJson) : new RunConfig { Name = request.Name };
                if (parse.GetValue(ranks) is { } r) basis = basis with { Distributed = basis.Distributed with { Ranks = r } };
                if (parse.GetValue(precision) is { } p) basis = basis with { Precision = p };
                if (parse.GetValue(batchSize) is { } b) basis = basis with { BatchSize = b };
                request.ConfigJson = basis.ToJson();
            }
            using var service = client.Connect(parse);
            var run = await new Runs.RunsClient(service.Invoker).CreateRunAsync(request, cancellationToken: ct);
            if (parse.GetValue(watch)) return await RunWatch.WatchAsync(service, run.Name, parse.GetValue(json), ct);
            if (parse.GetValue(json)) ServiceClient.WriteJson(run);
            else Console.Out.WriteLine($"run {run.Name} {RunView.State(run.State)} ({run.TotalSteps} steps); follow it with: generalist runs watch {run.Name}");
            return ExitCodes.Ok;
        }, () => client.Connect(parse).Server.ToString()));
        return command;
    }

    private static Command List()
    {
        var client = new ServiceClient.Options();
        var state = new Option<string?>("--state") { Description = "Only runs in this state: queued, running, cancelling, succeeded, failed, cancelled, interrupted." };
        var prefix = new Option<string?>("--prefix") { Description = "Only runs whose name starts with this." };
        var pageSize = new Option<int>("--page-size") { Description = "Runs per page, 1-1000.", DefaultValueFactory = _ => 50 };
        var pageToken = new Option<string?>("--page-token") { Description = "Continue from a previous page's next_page_token." };
        var all = new Option<bool>("--all") { Description = "Fetch every page." };
        var json = CliApp.JsonOption();
        var command = new Command("list", "List runs, oldest first.") { state, prefix, pageSize, pageToken, all, json };
        client.AddTo(command);
        command.SetAction((parse, ct) => ServiceClient.GuardAsync(async () =>
        {
            var size = parse.GetValue(pageSize);
            if (size is < 1 or > 1000) throw new CliInputException($"--page-size must be in [1, 1000] (got {size})");
            var request = new ListRunsRequest { PageSize = size, PageToken = parse.GetValue(pageToken) ?? "", NamePrefix = parse.GetValue(prefix) ?? "" };
            if (parse.GetValue(state) is { } s) request.State = RunView.ParseState(s);
            using var service = client.Connect(parse);
            var runs = new Runs.RunsClient(service.Invoker);
            var response = new ListRunsResponse();
            for (var page = 0; ; page++)
            {
                var part = await runs.ListRunsAsync(request, cancellationToken: ct);
                response.Runs.AddRange(part.Runs);
                response.NextPageToken = part.NextPageToken;
                if (!parse.GetValue(all) || part.NextPageToken.Length == 0 || page > 100_000) break;
                request.PageToken = part.NextPageToken;
            }
            if (parse.GetValue(json))
            {
                ServiceClient.WriteJson(response);
                return ExitCodes.Ok;
            }
            var table = new Table().AddColumns("name", "state", "step", "loss", "tokens/s", "checkpoint", "updated (UTC)");
            foreach (var r in response.Runs)
                table.AddRow(Markup.Escape(r.Name), RunView.State(r.State), $"{r.Step}/{r.TotalSteps}", RunView.Loss(r.Loss), Output.Numbers.PerSecond(r.TokensPerSecond),
                    Markup.Escape(r.LastCheckpoint), r.UpdateTime.ToDateTime().ToString("yyyy-MM-dd HH:mm:ss"));
            Output.CliTable.Write(table);
            if (response.NextPageToken.Length > 0) Console.Out.WriteLine($"more: --page-token {response.NextPageToken}");
            return ExitCodes.Ok;
        }, () => client.Connect(parse).Server.ToString()));
        return command;
    }

    private static Command Get() => OneRun("get", "Show one run.", async (runs, name, ct) => await runs.GetRunAsync(new GetRunRequest { Name = name }, cancellationToken: ct));

    private static Command Cancel() => OneRun("cancel", "Stop a run at its next step boundary (it writes a checkpoint), or drop it from the queue.",
        async (runs, name, ct) => await runs.CancelRunAsync(new CancelRunRequest { Name = name }, cancellationToken: ct));

    private static Command Resume() => OneRun("resume", "Continue an interrupted, cancelled or failed run from its newest checkpoint.",
        async (runs, name, ct) => await runs.ResumeRunAsync(new ResumeRunRequest { Name = name }, cancellationToken: ct));

    private static Command OneRun(string verb, string description, Func<Runs.RunsClient, string, CancellationToken, Task<Run>> call)
    {
        var client = new ServiceClient.Options();
        var name = new Argument<string>("name") { Description = "The run's name." };
        var json = CliApp.JsonOption();
        var command = new Command(verb, description) { name, json };
        client.AddTo(command);
        command.SetAction((parse, ct) => ServiceClient.GuardAsync(async () =>
        {
            using var service = client.Connect(parse);
            var run = await call(new Runs.RunsClient(service.Invoker), parse.GetValue(name)!, ct);
            if (parse.GetValue(json)) ServiceClient.WriteJson(run);
            else RunView.Print(run);
            return ExitCodes.Ok;
        }, () => client.Connect(parse).Server.ToString()));
        return command;
    }

    private static Command Watch()
    {
        var client = new ServiceClient.Options();
        var name = new Argument<string>("name") { Description = "The run's name." };
        var json = CliApp.JsonOption();
        var command = new Command("watch", "Follow a run (steps, losses, throughput, checkpoints, states) until it ends; exit 0 only if it succeeded. --json: one event per line.")
            { name, json };
        client.AddTo(command);
        command.SetAction((parse, ct) => ServiceClient.GuardAsync(async () =>
        {
            using var service = client.Connect(parse);
            return await RunWatch.WatchAsync(service, parse.GetValue(name)!, parse.GetValue(json), ct);
        }, () => client.Connect(parse).Server.ToString()));
        return command;
    }
}
