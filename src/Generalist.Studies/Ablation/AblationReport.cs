using Generalist.Evaluation.Reporting;
using Generalist.Evaluation.Statistics;

namespace Generalist.Studies.Ablation;

/// <summary>
/// The ablation report: what each variant changes relative to Gato, a summary row per variant, per
/// task the mean normalized score over seeds with its interval (and where that interval comes from)
/// and the held-out loss, grouped bar charts, and the data as CSV and JSON.
/// </summary>
public static class AblationReport
{
    public static (string ReportPath, List<string> Artifacts) Write(string directory, StudyConfig config, IReadOnlyList<AblationVariant> variants,
        IReadOnlyList<(string Variant, long Seed, SubRunResult Run)> runs, AblationAnalysisResult analysis, IReadOnlyList<string>? notes = null)
    {
        var plots = Path.Combine(directory, "plots");
        var artifacts = new List<string>();
        var seeds = config.Ablation.Seeds;
        var c = Percent(analysis.Bootstrap.Confidence);
        var md = new MarkdownDocument().Heading(1, $"Ablation study: {config.Name}");
        md.Paragraph($"{variants.Count} variants × {seeds.Count} seed(s) ({string.Join(", ", seeds)}) = {runs.Count} sub-runs. Every variant is the base run config " +
                     $"(preset `{config.BaseRun.Preset}`, {config.BaseRun.Steps} steps, batch {config.BaseRun.BatchSize}, tasks {string.Join(", ", config.BaseRun.Tasks.Select(t => t.Name))}) " +
                     "with the variant's overrides merged in, trained by the trainer `generalist train` uses, and evaluated with " +
                     $"suite `{config.Evaluation.Suite}`, {config.Evaluation.Episodes} episodes per control task, seed {config.Evaluation.Seed}. " +
                     "Normalized score: 0 = random policy, 100 = expert; loss: held-out nats per token (lower is better).");

        md.Heading(2, "What each variant changes relative to Gato");
        md.Bullets(variants.Select(v => $"**{v.Name}**: {v.Description}" + (v.Overrides.Count == 0 ? " (no overrides: the base config)" : $" Overrides: `{v.Overrides.ToJsonString()}`.")));
        if (notes is { Count: > 0 }) md.Bullets(notes);

        md.Heading(2, "Summary");
        md.Table(["variant", "seeds", "control tasks", $"mean normalized score [{c} interval]", "interval from", "IQM [interval]", "interval from", "mean held-out loss", $"vs {analysis.Reference}"],
            analysis.Summary.Select(s => (IReadOnlyList<string>)
            [
                s.Variant, s.Seeds.ToString(), s.ControlTasks.ToString(), WithInterval(s.MeanScore, s.MeanInterval), SourceLabel(s.MeanIntervalSource),
                WithInterval(s.Iqm, s.IqmInterval), s.Iqm is null ? "–" : SourceLabel(s.IqmIntervalSource), MarkdownDocument.Number(s.MeanLoss),
                s.Variant == analysis.Reference ? "reference" : Signed(s.DifferenceFromReference),
            ]));
        md.Paragraph("Mean normalized score: per seed the mean over the variant's control tasks, then the mean over seeds. IQM: the interquartile mean of all episode scores " +
                     "of every control task (Agarwal et al. 2021) as the evaluator reports it, averaged over seeds; – where the evaluation gives none. " +
                     $"Mean held-out loss: over every evaluated task. The last column is the difference in mean normalized score from `{analysis.Reference}` (positive = better).");

        md.Heading(2, "Per task");
        var multiSeed = seeds.Count > 1;
        foreach (var task in analysis.Tasks)
        {
            var rows = analysis.TaskRows.Where(r => r.Task == task).ToList();
            if (rows.Count == 0) continue;
            md.Heading(3, task);
            var header = new List<string> { "variant", $"normalized score [{c} interval]", "interval from" };
            if (multiSeed) header.AddRange(["per seed", $"seed interval ({c})"]);
            header.Add(multiSeed ? $"held-out loss [seed interval]" : "held-out loss");
            if (multiSeed) header.Add("loss per seed");
            md.Table(header, rows.Select(r =>
            {
                var cells = new List<string> { r.Variant, WithInterval(r.Score, r.ScoreInterval), r.Score is null ? "–" : SourceLabel(r.IntervalSource) };
                if (multiSeed) cells.AddRange([r.SeedScores.Count == 0 ? "–" : string.Join(", ", r.SeedScores.Select(v => MarkdownDocument.Number(v, "0.#"))), Range(r.SeedInterval, "0.#")]);
                cells.Add(WithInterval(r.Loss, r.LossInterval, "0.####"));
                if (multiSeed) cells.Add(string.Join(", ", r.SeedLosses.Select(v => MarkdownDocument.Number(v, "0.####"))));
                return (IReadOnlyList<string>)cells;
            }));
        }
        md.Paragraph(IntervalParagraph(analysis, multiSeed));

        md.Heading(2, "Plots");
        var controlTasks = analysis.Tasks.Where(t => analysis.TaskRows.Any(r => r.Task == t && r.Score is not null)).ToList();
        if (controlTasks.Count > 0)
        {
            var groups = controlTasks.ToList();
            var withMean = controlTasks.Count > 1;
            if (withMean) groups.Add("mean (control tasks)");
            var series = variants.Select(v =>
            {
                var cells = controlTasks.Select(t => analysis.TaskRows.FirstOrDefault(r => r.Variant == v.Name && r.Task == t)).ToList();
                var s = analysis.Summary.First(x => x.Variant == v.Name);
                var values = cells.Select(r => r?.Score ?? double.NaN).ToList();
                var low = cells.Select(r => r?.ScoreInterval?.Low ?? double.NaN).ToList();
                var high = cells.Select(r => r?.ScoreInterval?.High ?? double.NaN).ToList();
                if (withMean) { values.Add(s.MeanScore ?? double.NaN); low.Add(s.MeanInterval?.Low ?? double.NaN); high.Add(s.MeanInterval?.High ?? double.NaN); }
                return new BarSeries(v.Name, [.. values], [.. low], [.. high]);
            }).ToList();
            var chart = BarChart.Write(plots, "ablation_scores", new BarChartSpec(
                $"{config.Name}: normalized score per variant ({c} intervals)", "control task", "normalized score (0 random, 100 expert)", groups, series,
                [new ReferenceLine("expert (100)", 100), new ReferenceLine("random policy (0)", 0)]));
            md.Chart("normalized score per control task and variant, with intervals (see the tables for each interval's source)", chart, directory);
            artifacts.AddRange(chart.All);
        }
        else md.Paragraph("No control task was evaluated, so there is no score chart.");
        var lossTasks = analysis.Tasks.Where(t => analysis.TaskRows.Any(r => r.Task == t && r.Loss is not null)).ToList();
        if (lossTasks.Count > 0)
        {
            var series = variants.Select(v =>
            {
                var cells = lossTasks.Select(t => analysis.TaskRows.FirstOrDefault(r => r.Variant == v.Name && r.Task == t)).ToList();
                return new BarSeries(v.Name, [.. cells.Select(r => r?.Loss ?? double.NaN)],
                    [.. cells.Select(r => r?.LossInterval?.Low ?? double.NaN)], [.. cells.Select(r => r?.LossInterval?.High ?? double.NaN)]);
            }).ToList();
            var chart = BarChart.Write(plots, "ablation_loss", new BarChartSpec(
                $"{config.Name}: held-out loss per variant" + (multiSeed ? $" ({c} intervals over seeds)" : ""), "task", "held-out loss (nats/token, lower is better)", lossTasks, series));
            md.Chart("held-out loss per task and variant" + (multiSeed ? ", with bootstrap intervals over seeds" : ""), chart, directory);
            artifacts.AddRange(chart.All);
        }

        md.Heading(2, "Sub-runs").Table(["run", "variant", "seed", "steps", "tokens seen", "checkpoint", "evaluation"],
            runs.Select(r => (IReadOnlyList<string>)
            [
                r.Run.Name, r.Variant, r.Seed.ToString(), r.Run.Steps.ToString(), r.Run.TokensSeen.ToString(), Path.GetRelativePath(directory, r.Run.Checkpoint),
                $"[evaluation.md]({Path.GetRelativePath(directory, r.Run.Evaluation.MarkdownPath).Replace('\\', '/')})",
            ]));

        var resultsCsv = Path.Combine(directory, "ablation.csv");
        AtomicFiles.WriteText(resultsCsv, AtomicFiles.Csv(
            ["variant", "task", "family", "seeds", "normalized_score", "score_low", "score_high", "interval_source", "seed_score_low", "seed_score_high", "loss", "loss_low", "loss_high"],
            analysis.TaskRows.Select(r => new[]
            {
                r.Variant, r.Task, r.Family, r.Seeds.ToString(), Num(r.Score), Num(r.ScoreInterval?.Low), Num(r.ScoreInterval?.High), r.Score is null ? "" : r.IntervalSource,
                Num(r.SeedInterval?.Low), Num(r.SeedInterval?.High), Num(r.Loss), Num(r.LossInterval?.Low), Num(r.LossInterval?.High),
            })));
        var summaryCsv = Path.Combine(directory, "ablation_summary.csv");
        AtomicFiles.WriteText(summaryCsv, AtomicFiles.Csv(
            ["variant", "seeds", "control_tasks", "mean_score", "mean_low", "mean_high", "mean_interval_source", "iqm", "iqm_low", "iqm_high", "iqm_interval_source", "mean_loss", "difference_from_reference"],
            analysis.Summary.Select(s => new[]
            {
                s.Variant, s.Seeds.ToString(), s.ControlTasks.ToString(), Num(s.MeanScore), Num(s.MeanInterval?.Low), Num(s.MeanInterval?.High), s.MeanIntervalSource,
                Num(s.Iqm), Num(s.IqmInterval?.Low), Num(s.IqmInterval?.High), s.IqmIntervalSource, Num(s.MeanLoss), Num(s.DifferenceFromReference),
            })));
        var seedsCsv = Path.Combine(directory, "ablation_seeds.csv");
        AtomicFiles.WriteText(seedsCsv, AtomicFiles.Csv(["variant", "seed", "run", "task", "family", "normalized_score", "score_low", "score_high", "loss"],
            analysis.SeedRows.Select(r => new[]
            {
                r.Variant, r.Seed.ToString(), r.Run, r.Task, r.Family, Num(r.Score), Num(r.ScoreInterval?.Low), Num(r.ScoreInterval?.High), Num(r.Loss),
            })));
        var json = Path.Combine(directory, "ablation.json");
        AtomicFiles.WriteJson(json, new
        {
            config.Name,
            Seeds = seeds,
            analysis.Reference,
            Bootstrap = new { analysis.Bootstrap.Samples, analysis.Bootstrap.Confidence, analysis.Bootstrap.Seed },
            Variants = variants.Select(v => new { v.Name, v.Description, Overrides = v.Overrides, Config = System.Text.Json.JsonDocument.Parse(v.Config.ToJson()).RootElement }),
            analysis.Summary,
            Tasks = analysis.TaskRows,
            PerSeed = analysis.SeedRows,
            Runs = runs.Select(r => r.Run),
        });
        md.Heading(2, "Data").Bullets([
            "[ablation.csv](ablation.csv): per variant and task, the score with its interval and source, the seed interval and the loss",
            "[ablation_summary.csv](ablation_summary.csv): the summary row of each variant",
            "[ablation_seeds.csv](ablation_seeds.csv): every (variant, seed, task) as evaluated",
            "[ablation.json](ablation.json): all of the above, each variant's overrides and resolved run config, and every sub-run's result",
            "runs/NAME/result.json: each sub-run",
        ]);
        var report = Path.Combine(directory, "report.md");
        AtomicFiles.WriteText(report, md.ToString());
        artifacts.AddRange([resultsCsv, summaryCsv, seedsCsv, json, report]);
        return (report, artifacts);
    }

    private static string IntervalParagraph(AblationAnalysisResult analysis, bool multiSeed)
    {
        var used = analysis.TaskRows.Where(r => r.Score is not null).Select(r => r.IntervalSource)
            .Concat(analysis.Summary.Where(s => s.MeanScore is not null).Select(s => s.MeanIntervalSource)).Distinct().ToList();
        var parts = new List<string> { "Intervals on normalized scores." };
        if (used.Contains(IntervalSources.Evaluation))
            parts.Add("*evaluation*: the evaluator's own percentile bootstrap over the task's episodes (95%, expert and random references held fixed; for the summary, " +
                      "stratified over tasks)" + (multiSeed
                          ? "; over several seeds each seed's distances to its interval ends are added in quadrature and divided by the number of seeds, around the mean. " +
                            "This covers the evaluation noise of these trained models, not the variation between training seeds: the per-seed values and the seed interval show that."
                          : "."));
        if (used.Contains(IntervalSources.Seeds))
            parts.Add($"*seeds*: the evaluation result gives no interval, so a percentile bootstrap of the mean over seeds ({analysis.Bootstrap.Samples} resamples, " +
                      $"{Percent(analysis.Bootstrap.Confidence)}, seed {analysis.Bootstrap.Seed}); with few seeds it is rough (2 seeds give at most their range).");
        if (used.Contains(IntervalSources.None)) parts.Add("*none*: one seed and no interval in the evaluation result.");
        if (used.Contains(IntervalSources.Seeds) || used.Contains(IntervalSources.None))
            parts.Add("(The study cannot resample episodes itself where the evaluator gave no interval: per-episode returns are not part of an evaluation result.)");
        if (multiSeed) parts.Add($"Held-out loss intervals: percentile bootstrap over seeds ({Percent(analysis.Bootstrap.Confidence)}).");
        return string.Join(" ", parts);
    }

    private static string Percent(double confidence) => $"{MarkdownDocument.Number(100 * confidence, "0.#")}%";

    private static string SourceLabel(string source) => source switch
    {
        IntervalSources.Evaluation => "evaluation (episodes)",
        IntervalSources.Seeds => "bootstrap over seeds",
        _ => "none",
    };

    private static string WithInterval(double? value, Interval? interval, string format = "0.#") =>
        value is null ? "–" : MarkdownDocument.Number(value, format) + (interval is null ? "" : " " + Range(interval, format));

    private static string Range(Interval? i, string format) =>
        i is null ? "–" : $"[{MarkdownDocument.Number(i.Low, format)}, {MarkdownDocument.Number(i.High, format)}]";

    private static string Signed(double? v) => v is { } x && double.IsFinite(x) ? (x >= 0 ? "+" : "") + MarkdownDocument.Number(x, "0.#") : "–";

    private static string Num(double? v) => v is { } x ? AtomicFiles.CsvNumber(x) : "";
}
