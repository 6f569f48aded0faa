using Generalist.Service.Api;
using Generalist.Service.Api.V1;
using Grpc.Core;
using Spectre.Console;

namespace Generalist.Cli.Commands;

/// <summary>How runs look on a terminal.</summary>
internal static class RunView
{
    /// <summary>A job state's name, as the service stores it ("unknown" for one this build does not know).</summary>
    public static string State(JobState s) => JobStateMapping.Text(s);

    public static JobState ParseState(string text) =>
        JobStateMapping.Parse(text) ?? throw new CliInputException($"--state must be one of {string.Join(", ", JobStateMapping.Names)} (got '{text}')");

    public static string Loss(double loss) => Output.Numbers.Loss(loss);

    public static void Print(Run r)
    {
        var table = new Table().AddColumns("field", "value");
        table.AddRow("name", Markup.Escape(r.Name));
        table.AddRow("state", State(r.State) + (r.FailureReason.Length > 0 ? $" ({Markup.Escape(r.FailureReason)})" : ""));
        table.AddRow("step", $"{r.Step}/{r.TotalSteps}");
        table.AddRow("loss", Loss(r.Loss));
        table.AddRow("tokens seen", r.TokensSeen.ToString("N0"));
        table.AddRow("tokens/s", Output.Numbers.PerSecond(r.TokensPerSecond));
        table.AddRow("attempts", r.Attempts.ToString());
        table.AddRow("directory", Markup.Escape(r.RunDirectory));
        table.AddRow("last checkpoint", Markup.Escape(r.LastCheckpoint.Length > 0 ? r.LastCheckpoint : "-"));
        table.AddRow("created (UTC)", r.CreateTime.ToDateTime().ToString("yyyy-MM-dd HH:mm:ss"));
        if (r.EndTime is not null) table.AddRow("ended (UTC)", r.EndTime.ToDateTime().ToString("yyyy-MM-dd HH:mm:ss"));
        Output.CliTable.Write(table);
        if (r.Ranks.Count > 0) Output.CliTable.Write(Ranks(r));
    }

    /// <summary>One row per rank of a distributed run: where it runs, its step and state, how fresh its status is.</summary>
    public static Table Ranks(Run r)
    {
        var table = new Table().AddColumns("rank", "host", "pid", "step", "state", "collective", "updated (UTC)", "detail");
        foreach (var k in r.Ranks)
            table.AddRow(k.Rank.ToString(), Markup.Escape(k.Host), k.Pid.ToString(), k.Step.ToString(), Markup.Escape(k.State),
                Markup.Escape(k.CollectiveInProgress.Length > 0 ? $"#{k.Collectives} {k.CollectiveInProgress}" : $"#{k.Collectives}"),
                k.UpdateTime?.ToDateTime().ToString("HH:mm:ss.f") ?? "-", Markup.Escape(k.Detail.Length > 0 ? k.Detail : "-"));
        return table;
    }
}

/// <summary>
/// `runs watch`: a Spectre progress bar on a terminal, one plain line per second (plus every
/// checkpoint and state change) otherwise, and one JSON event per line with --json.
/// </summary>
internal static class RunWatch
{
    public static async Task<int> WatchAsync(ServiceClient service, string name, bool json, CancellationToken ct)
    {
        using var call = new Runs.RunsClient(service.Invoker).WatchRun(new WatchRunRequest { Name = name }, cancellationToken: ct);
        var final = JobState.Unspecified;
        if (json)
        {
            await foreach (var e in call.ResponseStream.ReadAllAsync(ct))
            {
                ServiceClient.WriteJson(e);
                final = Track(e, final);
            }
        }
        else if (AnsiConsole.Profile.Capabilities.Interactive && !Console.IsOutputRedirected)
        {
            await AnsiConsole.Progress()
                .Columns(new TaskDescriptionColumn(), new ProgressBarColumn(), new PercentageColumn(), new RemainingTimeColumn(), new SpinnerColumn())
                .StartAsync(async progress =>
                {
                    var task = progress.AddTask(Markup.Escape(name), maxValue: 1);
                    await foreach (var e in call.ResponseStream.ReadAllAsync(ct))
                    {
                        final = Track(e, final);
                        switch (e.EventCase)
                        {
                            case RunEvent.EventOneofCase.Snapshot:
                                task.MaxValue = Math.Max(1, e.Snapshot.TotalSteps);
                                task.Value = e.Snapshot.Step;
                                task.Description = Markup.Escape($"{name} {RunView.State(e.Snapshot.State)}");
                                break;
                            case RunEvent.EventOneofCase.Step:
                                task.MaxValue = Math.Max(1, e.Step.TotalSteps);
                                task.Value = e.Step.Step;
                                task.Description = Markup.Escape($"{name} loss {Output.Numbers.Loss(e.Step.Loss)} lr {Output.Numbers.LearningRate(e.Step.LearningRate)} {Output.Numbers.PerSecond(e.Step.TokensPerSecond)} tok/s");
                                break;
                            case RunEvent.EventOneofCase.Checkpoint:
                                AnsiConsole.MarkupLine($"checkpoint [green]{Markup.Escape(e.Checkpoint.Path)}[/]");
                                break;
                            case RunEvent.EventOneofCase.State:
                                AnsiConsole.MarkupLine($"state [yellow]{RunView.State(e.State.State)}[/] {Markup.Escape(e.State.Reason)}");
                                break;
                        }
                    }
                    task.StopTask();
                });
        }
        else
        {
            var lastLine = DateTime.MinValue;
            await foreach (var e in call.ResponseStream.ReadAllAsync(ct))
            {
                final = Track(e, final);
                switch (e.EventCase)
                {
                    case RunEvent.EventOneofCase.Snapshot:
                        Console.Out.WriteLine($"run {name} {RunView.State(e.Snapshot.State)} at step {e.Snapshot.Step}/{e.Snapshot.TotalSteps}");
                        break;
                    case RunEvent.EventOneofCase.Step when DateTime.UtcNow - lastLine >= TimeSpan.FromSeconds(1) || e.Step.Step == e.Step.TotalSteps:
                        lastLine = DateTime.UtcNow;
                        Console.Out.WriteLine($"step {e.Step.Step}/{e.Step.TotalSteps} loss {Output.Numbers.Loss(e.Step.Loss)} lr {Output.Numbers.LearningRate(e.Step.LearningRate)} tok/s {Output.Numbers.PerSecond(e.Step.TokensPerSecond)}");
                        break;
                    case RunEvent.EventOneofCase.Checkpoint:
                        Console.Out.WriteLine($"checkpoint {e.Checkpoint.Path}");
                        break;
                    case RunEvent.EventOneofCase.State:
                        Console.Out.WriteLine($"state {RunView.State(e.State.State)}{(e.State.Reason.Length > 0 ? ": " + e.State.Reason : "")}");
                        break;
                }
            }
        }
        if (!json) Console.Out.WriteLine($"run {name} ended {RunView.State(final)}");
        return final == JobState.Succeeded ? ExitCodes.Ok : ExitCodes.Failed;
    }

    private static JobState Track(RunEvent e, JobState current) => e.EventCase switch
    {
        RunEvent.EventOneofCase.Snapshot => e.Snapshot.State,
        RunEvent.EventOneofCase.State => e.State.State,
        _ => current,
    };
}
