using System.CommandLine;
using Generalist.Envs;
using Spectre.Console;
using Generalist.Episodes;

namespace Generalist.Cli.Commands;

/// <summary>`generalist envs list|rollout`: the environments, and expert or random returns measured by rollouts.</summary>
public static class EnvsCommand
{
    public static Command Create()
    {
        var command = new Command("envs", "List the environments, or roll out a policy and report returns.");
        command.Subcommands.Add(List());
        command.Subcommands.Add(Rollout());
        return command;
    }

    private static Command List()
    {
        var json = CliApp.JsonOption();
        var command = new Command("list", "List the environments with their observation and action spaces.") { json };
        command.SetAction(parse =>
        {
            var rows = EnvRegistry.All.Select(e => Describe(e)).ToList();
            if (parse.GetValue(json))
            {
                CliApp.WriteJson(rows);
                return ExitCodes.Ok;
            }
            var table = new Table().AddColumn("name").AddColumn("kind").AddColumn("observation").AddColumn("action").AddColumn("max steps");
            foreach (var r in rows)
                table.AddRow(r.Name, Markup.Escape(r.Kind), Markup.Escape(string.Join("; ", r.Observation.Select(f => $"{f.Name} {f.Part} [{string.Join("x", f.Shape)}]"))),
                    Markup.Escape(r.Action), r.MaxSteps.ToString());
            Generalist.Cli.Output.CliTable.Write(table);
            return ExitCodes.Ok;
        });
        return command;
    }

    private static EnvDescription Describe(EnvEntry entry)
    {
        if (entry.Name == "sokoban")
        {
            // The spec of sokoban depends only on its options, not on the levels: describe it
            // with one tiny level so that listing needs no data.
            var probe = new SokobanEnv([SokobanLevel.Parse("#####\n#@$.#\n#####")]);
            return EnvDescription.Of(entry, probe.Spec);
        }
        return EnvDescription.Of(entry, entry.Create(new EnvOptions()).Spec);
    }

    private static Command Rollout()
    {
        var json = CliApp.JsonOption();
        var env = new Option<string>("--env") { Description = $"Environment: {string.Join(", ", EnvRegistry.Names)}.", Required = true };
        var policy = new Option<string>("--policy") { Description = "expert or random.", DefaultValueFactory = _ => "expert" };
        var episodes = new Option<int>("--episodes") { Description = "Episodes to run, in [1, 100000].", DefaultValueFactory = _ => 100 };
        var seed = new Option<long>("--seed") { Description = "Seed of the first episode; episode i uses seed + i (sokoban: level (seed + i) mod the level count).", DefaultValueFactory = _ => 0 };
        var levels = new Option<string?>("--levels")
        {
            Description = "sokoban: your own levels, a .sok file or a directory of .sok files (solutions from the .sol beside each). Default: the real levels of the data cache, fetched on first use.",
        };
        var split = new Option<string>("--split") { Description = "sokoban, levels from the data cache: train, held-out (those evaluation plays) or all.", DefaultValueFactory = _ => "all" };
        var cache = new Option<string?>("--cache") { Description = "Data cache directory (default: GENERALIST_DATA, else $XDG_CACHE_HOME/generalist/data, else ~/.cache/generalist/data)." };
        var command = new Command("rollout", "Run a policy for N seeded episodes and report the mean and std of the return.")
            { env, policy, episodes, seed, levels, split, cache, json };
        command.SetAction(parse => Guarded(() =>
        {
            var name = parse.GetValue(env)!;
            EnvRegistry.Get(name); // unknown names fail here with the list of known ones
            var which = parse.GetValue(policy)!;
            if (which is not ("expert" or "random")) throw new CliInputException($"--policy must be expert or random (got '{which}')");
            var n = parse.GetValue(episodes);
            if (n is < 1 or > 100_000) throw new CliInputException($"--episodes must be in [1, 100000] (got {n})");
            var s = parse.GetValue(seed);
            var levelPath = parse.GetValue(levels);
            var levelSplit = parse.GetValue(split)!;
            if (levelSplit is not ("train" or "held-out" or "all")) throw new CliInputException($"--split must be train, held-out or all (got '{levelSplit}')");
            var options = new EnvOptions(SokobanLevels: levelPath is null ? () => CachedLevels(parse.GetValue(cache), levelSplit) : () =>
            {
                var loaded = SokobanFiles.Load(levelPath, out var skipped);
                foreach (var reason in skipped) Console.Error.WriteLine($"skipped: {reason}");
                if (which != "expert") return loaded;
                // The expert replays recorded solutions, so it plays only the levels that have one.
                foreach (var level in loaded.Where(l => l.Solution is null)) Console.Error.WriteLine($"skipped: '{level.Title}' has no .sol for the expert");
                var solved = loaded.Where(l => l.Solution is not null).ToList();
                return solved.Count > 0 ? solved : throw new CliInputException($"--levels: no level in {levelPath} has a .sol solution for the expert");
            });

            var environment = EnvRegistry.Create(name, options);
            try
            {
                IPolicy actor = which == "expert" ? EnvRegistry.Expert(name) : new RandomPolicy(s);
                var started = System.Diagnostics.Stopwatch.StartNew();
                var summary = Rollouts.Evaluate(environment, actor, n, s);
                var result = new RolloutReport(name, which, summary.Episodes, s, summary.MeanReturn, summary.StdReturn, summary.MeanLength, started.Elapsed.TotalSeconds);
                if (parse.GetValue(json)) CliApp.WriteJson(result);
                else
                    AnsiConsole.MarkupLine(
                        $"{name} {which}: mean return [bold]{result.MeanReturn:F3}[/] ± {result.StdReturn:F3} over {result.Episodes} episodes (seed {s}), mean length {result.MeanLength:F1}");
                return ExitCodes.Ok;
            }
            finally
            {
                (environment as IDisposable)?.Dispose();
            }
        }));
        return command;
    }

    /// <summary>
    /// The real Sokoban levels (Debian cavepacker-data), fetched into the data cache on first use as
    /// `data prepare` does, with its progress lines on stderr; all of them have a solution.
    /// </summary>
    private static IReadOnlyList<SokobanLevel> CachedLevels(string? cacheDirectory, string split)
    {
        var cache = new Generalist.Datasets.Cache.PackageCache(cacheDirectory ?? Generalist.Datasets.Cache.PackageCache.DefaultRoot());
        var (train, heldOut) = Generalist.Datasets.Sets.SokobanLevelSet.Load(cache, log: m => Console.Error.WriteLine($"[sokoban] {m}"));
        IReadOnlyList<SokobanLevel> chosen = split switch { "train" => train, "held-out" => heldOut, _ => [.. train, .. heldOut] };
        Console.Error.WriteLine($"[sokoban] {chosen.Count} levels ({split}) from the data cache {cache.Root}");
        return chosen;
    }

    /// <summary>
    /// Maps input errors to one line on stderr and exit code 2 here, because System.CommandLine's
    /// default exception handler catches them before <see cref="CliApp.InvokeAsync"/> can.
    /// </summary>
    private static int Guarded(Func<int> action)
    {
        try
        {
            return action();
        }
        catch (Exception e) when (e is CliInputException or ArgumentException or FileNotFoundException or InvalidDataException or DirectoryNotFoundException)
        {
            Console.Error.WriteLine($"error: {e.Message}");
            return ExitCodes.InvalidInput;
        }
        catch (Generalist.Datasets.Cache.PackageUnavailableException e)
        {
            // The data could not be fetched: a failure of the job, not of the input.
            Console.Error.WriteLine($"error: {e.Message}");
            return ExitCodes.Failed;
        }
    }

    private sealed record RolloutReport(string Env, string Policy, int Episodes, long Seed, double MeanReturn, double StdReturn, double MeanLength, double Seconds);

    private sealed record FieldDescription(string Name, string Part, int[] Shape, double? Low, double? High, string Description);

    private sealed record EnvDescription(string Name, string Kind, string Description, IReadOnlyList<FieldDescription> Observation, string Action, int MaxSteps)
    {
        public static EnvDescription Of(EnvEntry entry, EnvSpec spec) => new(
            entry.Name, entry.Kind, spec.Description,
            spec.Observation.Select(f => new FieldDescription(f.Name, f.Part.ToString().ToLowerInvariant(), f.Shape,
                Finite(f.Low), Finite(f.High), f.Description)).ToList(),
            spec.Action.Describe(),
            spec.MaxSteps);

        private static double? Finite(double v) => double.IsFinite(v) ? v : null;
    }
}
