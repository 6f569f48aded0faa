using System.CommandLine;
using Generalist.Cli.Commands.Bench;
using Generalist.Torch;

namespace Generalist.Cli.Commands;

/// <summary>`generalist bench --AREA ...`: performance benchmarks; ratios and medians over repeats.</summary>
public static class BenchCommand
{
    /// <summary>Every area's benchmark; add one line per area.</summary>
    private static IReadOnlyList<IBenchmark> Benchmarks() =>
    [
        new TokenizerBench(),
        new EnvsBenchmark(),
        new DataPrepareBenchmark(),
        new TrainBenchmark(),
        new DecodeBenchmark(),
        new TelemetryBenchmark(),
        new DistributedBenchmark(),
    ];

    public static Command Create()
    {
        var benchmarks = Benchmarks();
        var json = CliApp.JsonOption();
        var preset = new Option<string>("--preset") { Description = "Model preset for training benchmarks.", DefaultValueFactory = _ => "small" };
        var device = new Option<string>("--device") { Description = "cpu or cuda.", DefaultValueFactory = _ => "cpu" };
        var repeats = new Option<int>("--repeats") { Description = "Repeats; medians are reported.", DefaultValueFactory = _ => 5 };
        var command = new Command("bench", "Run performance benchmarks (pick one or more areas).") { json, preset, device, repeats };
        var flags = benchmarks.Select(b => (Bench: b, Option: new Option<bool>("--" + b.Flag) { Description = b.Description })).ToList();
        foreach (var (_, option) in flags) command.Options.Add(option);

        command.SetAction(async (parse, ct) =>
        {
            var r = parse.GetValue(repeats);
            if (r is < 1 or > 1000) throw new CliInputException($"--repeats must be in [1, 1000] (got {r})");
            var d = parse.GetValue(device)!;
            if (!ComputeSettings.IsDevice(d)) throw new CliInputException($"--device must be cpu or cuda (got '{d}')");
            var chosen = flags.Where(f => parse.GetValue(f.Option)).Select(f => f.Bench).ToList();
            if (chosen.Count == 0)
                throw new CliInputException($"choose at least one benchmark: {string.Join(", ", benchmarks.Select(b => "--" + b.Flag))}");
            var options = new BenchOptions(parse.GetValue(preset)!, d, r, parse.GetValue(json));
            var results = new Dictionary<string, object>();
            foreach (var bench in chosen) results[bench.Flag] = await bench.RunAsync(options, ct);
            if (options.Json) CliApp.WriteJson(results);
            return ExitCodes.Ok;
        });
        return command;
    }
}
