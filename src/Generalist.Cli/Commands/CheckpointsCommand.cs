using System.CommandLine;
using Generalist.Service.Api.V1;
using Spectre.Console;

namespace Generalist.Cli.Commands;

/// <summary>`generalist checkpoints list|get RUN`: complete checkpoints of a run on the service.</summary>
public static class CheckpointsCommand
{
    public static Command Create() => new("checkpoints", "List and inspect a run's checkpoints on the service.") { List(), Get() };

    private static Command List()
    {
        var client = new ServiceClient.Options();
        var run = new Argument<string>("run") { Description = "The run's name." };
        var json = CliApp.JsonOption();
        var command = new Command("list", "Checkpoints of a run, oldest first (only complete ones).") { run, json };
        client.AddTo(command);
        command.SetAction((parse, ct) => ServiceClient.GuardAsync(async () =>
        {
            using var service = client.Connect(parse);
            var response = await new Checkpoints.CheckpointsClient(service.Invoker).ListCheckpointsAsync(new ListCheckpointsRequest { Run = parse.GetValue(run)! }, cancellationToken: ct);
            if (parse.GetValue(json))
            {
                ServiceClient.WriteJson(response);
                return ExitCodes.Ok;
            }
            var table = new Table().AddColumns("step", "path", "size", "files", "created (UTC)");
            foreach (var c in response.Checkpoints)
                table.AddRow(c.Step.ToString(), Markup.Escape(c.Path), Size(c.SizeBytes), c.Files.Count.ToString(), c.CreateTime.ToDateTime().ToString("yyyy-MM-dd HH:mm:ss"));
            Generalist.Cli.Output.CliTable.Write(table);
            return ExitCodes.Ok;
        }, () => client.Connect(parse).Server.ToString()));
        return command;
    }

    private static Command Get()
    {
        var client = new ServiceClient.Options();
        var run = new Argument<string>("run") { Description = "The run's name." };
        var step = new Option<long>("--step") { Description = "The checkpoint's step (default: the newest).", DefaultValueFactory = _ => 0 };
        var json = CliApp.JsonOption();
        var command = new Command("get", "One checkpoint: files, sizes and trainer state.") { run, step, json };
        client.AddTo(command);
        command.SetAction((parse, ct) => ServiceClient.GuardAsync(async () =>
        {
            var s = parse.GetValue(step);
            if (s < 0) throw new CliInputException($"--step must be >= 0 (0 = the newest; got {s})");
            using var service = client.Connect(parse);
            var c = await new Checkpoints.CheckpointsClient(service.Invoker).GetCheckpointAsync(new GetCheckpointRequest { Run = parse.GetValue(run)!, Step = s }, cancellationToken: ct);
            if (parse.GetValue(json))
            {
                ServiceClient.WriteJson(c);
                return ExitCodes.Ok;
            }
            Console.Out.WriteLine($"{c.Run} step {c.Step}: {c.Path} ({Size(c.SizeBytes)})");
            var table = new Table().AddColumns("file", "size");
            foreach (var f in c.Files) table.AddRow(Markup.Escape(f.Name), Size(f.SizeBytes));
            Generalist.Cli.Output.CliTable.Write(table);
            return ExitCodes.Ok;
        }, () => client.Connect(parse).Server.ToString()));
        return command;
    }

    internal static string Size(long bytes) => bytes switch
    {
        >= 1L << 30 => $"{bytes / (double)(1L << 30):0.0} GiB",
        >= 1L << 20 => $"{bytes / (double)(1L << 20):0.0} MiB",
        >= 1L << 10 => $"{bytes / 1024.0:0.0} KiB",
        _ => $"{bytes} B",
    };
}
