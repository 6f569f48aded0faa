using System.CommandLine;
using Generalist.Evaluation.Statistics;
using Generalist.Studies;
using Generalist.Studies.Scaling;
using Spectre.Console;

namespace Generalist.Cli.Commands;

/// <summary>
/// `generalist study transfer|scaling|ablation|icl --config FILE [--out DIR] [--json]` runs a study locally
/// through the real trainer and evaluator; `generalist study fit --input RESULTS.csv` fits scaling
/// laws to any (task, params, tokens, loss[, score]) table.
/// </summary>
public static class StudyCommand
{
    public static Command Create() => new("study", "Transfer, scaling, ablation and in-context learning studies, and scaling-law fits to any results table.")
    {
        RunStudy(StudyKinds.Transfer, "Train a generalist, one specialist per task and leave-one-family-out generalists (then fine-tuned); evaluate all; write the transfer report."),
        RunStudy(StudyKinds.Scaling, "Train several model sizes on the same data; fit loss and score against parameters and FLOPs; write the scaling report."),
        RunStudy(StudyKinds.Ablation, "Train each variant of the base config (default: the ladder from Gato exact to this project's defaults) once per seed; evaluate all; write the ablation report."),
        RunStudy(StudyKinds.Icl, "Train base (or take icl.checkpoint); compare the model with least squares, ridge, k-NN, averaging and gradient descent per k (agreement, shifted prompts), probe every layer against a random-init control, MovieLens RMSE vs ratings in context; write report.md, JSON and CSV."),
        Fit(),
    };

    private static Command RunStudy(string kind, string description)
    {
        var config = new Option<string>("--config")
        {
            Description = "Study config (JSON, comments allowed): a base run config plus the study's sections; `generalist config show --study` prints every field with its default and range.",
            Required = true,
        };
        var output = new Option<string?>("--out") { Description = "Output directory (default: checkpoints/studies/<name>)." };
        var json = CliApp.JsonOption();
        var command = new Command(kind, description) { config, output, json };
        command.SetAction((parse, ct) => CommandErrors.GuardAsync(async () =>
        {
            var configPath = parse.GetValue(config)!;
            var studyConfig = StudyConfig.Load(configPath);
            var outDir = parse.GetValue(output) ?? Path.Combine("checkpoints", "studies", studyConfig.Name);
            var asJson = parse.GetValue(json);
            Generalist.Torch.TorchRuntime.EnsureLoaded();
            var runner = StudyRunner.CreateDefault();
            // Written on the reporting thread, in order (Progress<T> posts to the thread pool and may
            // reorder lines), each with the time since the study started.
            var clock = System.Diagnostics.Stopwatch.StartNew();
            var progress = new LineProgress(p =>
            {
                if (!asJson) Console.Error.WriteLine($"[{p.Stage}] sub-run {Math.Min(p.Done + (p.Stage == "done" ? 0 : 1), p.Total)}/{p.Total} {(int)clock.Elapsed.TotalMinutes}:{clock.Elapsed.Seconds:00}{(p.Message is null ? "" : " " + p.Message)}");
            });
            var result = await runner.RunAsync(new StudyRequest(kind, configPath, outDir), progress, ct);
            if (asJson) CliApp.WriteJson(result);
            else AnsiConsole.MarkupLine($"[green]{kind} study written[/]: {Markup.Escape(result.ReportPath)} ({result.Artifacts.Count} files)");
            return ExitCodes.Ok;
        }));
        return command;
    }

    private static Command Fit()
    {
        var input = new Option<string>("--input") { Description = "CSV with a header naming task, params, tokens, loss[, score].", Required = true };
        var output = new Option<string?>("--out") { Description = "Directory for report.md, plots and fits (default: <input>-fit beside the CSV)." };
        var samples = new Option<int>("--bootstrap") { Description = "Bootstrap resamples for the intervals (10-100000).", DefaultValueFactory = _ => 1000 };
        var seed = new Option<long>("--seed") { Description = "Seed of the bootstrap.", DefaultValueFactory = _ => 17 };
        var json = CliApp.JsonOption();
        var command = new Command("fit", "Fit L(N) = E + A N^-alpha (and L(N, D), score(L)) per task to a results CSV, with bootstrap intervals and plots.")
            { input, output, samples, seed, json };
        command.SetAction(parse => CommandErrors.Guard(() =>
        {
            var path = parse.GetValue(input)!;
            var bootstrap = new BootstrapOptions(Samples: parse.GetValue(samples), Seed: parse.GetValue(seed));
            try { bootstrap.Validate(); }
            catch (ArgumentException e) { throw new CliInputException($"--bootstrap/--seed: {e.Message}"); }
            var rows = ScalingResultsCsv.Load(path);
            var outDir = parse.GetValue(output) ?? Path.Combine(Path.GetDirectoryName(Path.GetFullPath(path))!, Path.GetFileNameWithoutExtension(path) + "-fit");
            var analysis = ScalingAnalysis.Analyze(rows, bootstrap);
            var (report, artifacts) = ScalingReport.Write(outDir, $"Scaling-law fits: {Path.GetFileName(path)}", rows, analysis);
            if (parse.GetValue(json))
            {
                CliApp.WriteJson(new { Input = path, OutputDirectory = outDir, Report = report, Artifacts = artifacts.Count, analysis.Tasks });
                return ExitCodes.Ok;
            }
            var table = new Table().AddColumns("task", "points", "alpha", "alpha 95% interval", "E", "L at 10x N", "interval");
            foreach (var t in analysis.Tasks)
            {
                var f = t.LossVsParams;
                table.AddRow(Markup.Escape(t.Task), t.Points.ToString(),
                    f is null ? "-" : $"{f.Fit.Alpha:0.###}", f?.AlphaInterval is { } a ? Markup.Escape($"[{a.Low:0.###}, {a.High:0.###}]") : "-",
                    f is null ? "-" : $"{f.Fit.E:0.###}", f is null ? "-" : $"{f.ExtrapolatedLoss:0.###}",
                    f?.ExtrapolatedLossInterval is { } l ? Markup.Escape($"[{l.Low:0.###}, {l.High:0.###}]") : "-");
            }
            Generalist.Cli.Output.CliTable.Write(table);
            foreach (var note in analysis.Tasks.SelectMany(t => t.Notes.Select(n => $"{t.Task}: {n}")))
                AnsiConsole.MarkupLine($"[yellow]note[/]: {Markup.Escape(note)}");
            AnsiConsole.MarkupLine($"report: {Markup.Escape(report)}");
            return ExitCodes.Ok;
        }));
        return command;
    }

    private sealed class LineProgress(Action<StudyProgress> write) : IProgress<StudyProgress>
    {
        private readonly Lock _lock = new();

        public void Report(StudyProgress value)
        {
            lock (_lock) write(value);
        }
    }
}
