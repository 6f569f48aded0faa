using Generalist.Evaluation;
using Generalist.Evaluation.Reporting;

namespace Generalist.Studies.Transfer;

/// <summary>One row of the per-task transfer table.</summary>
public sealed record TransferRow(
    string Task,
    string? Family,
    string Metric,
    bool HigherIsBetter,
    double? Generalist,
    double? Specialist,
    double? Transfer,
    double? WithoutFamily,
    double? FineTuned,
    double? Scratch);

/// <summary>
/// The transfer report: the per-task table, heatmaps of training mixture x evaluated task (held-out
/// loss, and normalized score where control tasks exist) and the fine-tuning curves.
/// Transfer = generalist / specialist - 1 on the task's primary metric (normalized score for control
/// tasks, held-out loss otherwise); for a loss, where lower is better, the ratio is inverted
/// (specialist / generalist - 1) so that a positive transfer always means the generalist is better.
/// </summary>
public static class TransferReport
{
    public static (string ReportPath, List<string> Artifacts) Write(string directory, StudyConfig config, IReadOnlyList<SubRunResult> runs, IReadOnlyList<string>? notes = null)
    {
        var plots = Path.Combine(directory, "plots");
        var artifacts = new List<string>();
        var tasks = config.BaseRun.Tasks.Select(t => t.Name).ToList();
        var rows = Rows(config, runs, tasks);
        var md = new MarkdownDocument().Heading(1, $"Transfer study: {config.Name}");
        md.Paragraph($"Every model: preset `{config.BaseRun.Preset}`, {config.BaseRun.Steps} steps (fine-tuning and from-scratch runs: {config.Transfer.FinetuneSteps} steps), " +
                     $"batch {config.BaseRun.BatchSize}, seed {config.BaseRun.Seed}; evaluated with suite `{config.Evaluation.Suite}`, {config.Evaluation.Episodes} episodes per control task.");
        md.Paragraph("Transfer = generalist / specialist − 1 on the primary metric (normalized score for control tasks; held-out loss otherwise, " +
                     "where the ratio is inverted to specialist / generalist − 1 so that positive always means the generalist is better).");
        if (notes is { Count: > 0 }) md.Bullets(notes);
        md.Heading(2, "Per task");
        md.Table(["task", "family", "metric", "generalist", "specialist", "transfer", "without family", "fine-tuned", "from scratch"],
            rows.Select(r => (IReadOnlyList<string>)
            [
                r.Task, r.Family ?? "–", r.Metric + (r.HigherIsBetter ? " ↑" : " ↓"), MarkdownDocument.Number(r.Generalist), MarkdownDocument.Number(r.Specialist),
                r.Transfer is { } t ? (t >= 0 ? "+" : "") + MarkdownDocument.Number(100 * t, "0.#") + "%" : "–",
                MarkdownDocument.Number(r.WithoutFamily), MarkdownDocument.Number(r.FineTuned), MarkdownDocument.Number(r.Scratch),
            ]));
        var aggregate = runs.FirstOrDefault(r => r.Role == TransferPlan.Generalist)?.Evaluation;
        if (aggregate?.MeanNormalizedScore is { } mean)
            md.Paragraph($"Generalist: mean normalized score {mean:0.#} over control tasks; {aggregate.TasksAtOrAbove50} at or above 50, {aggregate.TasksAtOrAbove80} at or above 80.");

        md.Heading(2, "Training mixture × evaluated task");
        var lossMap = Charts.Heatmap(plots, "heatmap_loss", Matrix(runs, tasks, "loss", "held-out loss (nats/token, lower is better)"));
        md.Chart("held-out loss of each model (rows) on each task (columns)", lossMap, directory);
        artifacts.AddRange(lossMap.All);
        var controlTasks = tasks.Where(t => runs.Any(r => Score(r, t) is not null)).ToList();
        if (controlTasks.Count > 0)
        {
            var scoreMap = Charts.Heatmap(plots, "heatmap_score", Matrix(runs, controlTasks, "normalized_score", "normalized score (0 random, 100 expert)"));
            md.Chart("normalized score of each model (rows) on each control task (columns)", scoreMap, directory);
            artifacts.AddRange(scoreMap.All);
        }

        md.Heading(2, "Fine-tuning curves");
        var anyCurve = false;
        foreach (var family in config.Transfer.Families.Keys.OrderBy(f => f, StringComparer.Ordinal))
        {
            var members = config.Transfer.Families[family];
            var fine = runs.FirstOrDefault(r => r.Role == TransferPlan.FineTuned && r.Name == $"without-{family}-finetuned");
            var scratch = runs.FirstOrDefault(r => r.Role == TransferPlan.Scratch && r.Name == $"scratch-{family}");
            var series = new List<ChartSeries>();
            foreach (var (run, label) in new[] { (fine, "fine-tuned from the generalist without " + family), (scratch, "trained from scratch") })
            {
                if (run is null) continue;
                var points = run.HeldOutCurve.Where(p => members.Contains(p.Task)).GroupBy(p => p.Step).OrderBy(g => g.Key).ToList();
                if (points.Count == 0) continue;
                series.Add(new ChartSeries(label, points.Select(g => (double)g.Key).ToArray(), points.Select(g => g.Average(p => p.Loss)).ToArray()));
            }
            if (series.Count == 0) continue;
            var xMax = series.Max(s => s.X.Max());
            var generalist = runs.FirstOrDefault(r => r.Role == TransferPlan.Generalist);
            var reference = generalist is null ? null : MeanMetric(generalist, members, "loss");
            if (reference is { } g) series.Add(new ChartSeries($"generalist after {generalist!.Steps} steps (all tasks)", [0, xMax], [g, g], Markers: false, Dashed: true));
            var chart = Charts.Line(plots, $"finetune_{ScalingSlug(family)}", new LineChartSpec($"{family}: held-out loss while fine-tuning", "fine-tuning step", "held-out loss (mean over the family's tasks)", series));
            md.Heading(3, family).Chart($"{family}: held-out loss while fine-tuning vs from scratch", chart, directory);
            artifacts.AddRange(chart.All);
            anyCurve = true;
        }
        if (!anyCurve) md.Paragraph("No held-out curves were recorded (the runs' held_out.every is 0, or leave-one-family-out is off).");

        md.Heading(2, "Sub-runs").Table(["run", "role", "tasks", "steps", "initialized from", "checkpoint", "evaluation"],
            runs.Select(r => (IReadOnlyList<string>)
            [
                r.Name, r.Role, string.Join(", ", r.Tasks), r.Steps.ToString(), r.InitializedFrom is null ? "–" : Path.GetRelativePath(directory, r.InitializedFrom),
                Path.GetRelativePath(directory, r.Checkpoint), $"[evaluation.md]({Path.GetRelativePath(directory, r.Evaluation.MarkdownPath).Replace('\\', '/')})",
            ]));
        var tableCsv = Path.Combine(directory, "transfer.csv");
        AtomicFiles.WriteText(tableCsv, AtomicFiles.Csv(["task", "family", "metric", "higher_is_better", "generalist", "specialist", "transfer", "without_family", "fine_tuned", "scratch"],
            rows.Select(r => new[]
            {
                r.Task, r.Family ?? "", r.Metric, r.HigherIsBetter ? "true" : "false", Num(r.Generalist), Num(r.Specialist), Num(r.Transfer),
                Num(r.WithoutFamily), Num(r.FineTuned), Num(r.Scratch),
            })));
        var json = Path.Combine(directory, "transfer.json");
        AtomicFiles.WriteJson(json, new { config.Name, Rows = rows, Runs = runs });
        md.Heading(2, "Data").Bullets(["[transfer.csv](transfer.csv) and [transfer.json](transfer.json): the table and every sub-run's result", "runs/NAME/result.json: each sub-run"]);
        var report = Path.Combine(directory, "report.md");
        AtomicFiles.WriteText(report, md.ToString());
        artifacts.AddRange([tableCsv, json, report]);
        return (report, artifacts);
    }

    public static List<TransferRow> Rows(StudyConfig config, IReadOnlyList<SubRunResult> runs, IReadOnlyList<string> tasks)
    {
        var generalist = runs.FirstOrDefault(r => r.Role == TransferPlan.Generalist);
        var rows = new List<TransferRow>();
        foreach (var task in tasks)
        {
            var family = TransferPlan.FamilyOf(config, task);
            var useScore = runs.Any(r => Score(r, task) is not null);
            var metric = useScore ? "normalized_score" : "loss";
            double? Value(SubRunResult? r) => r is null ? null : MeanMetric(r, [task], metric);
            var g = Value(generalist);
            var s = Value(runs.FirstOrDefault(r => r.Role == TransferPlan.Specialist && r.Name == $"specialist-{task}"));
            double? transfer = null;
            if (g is { } gv && s is { } sv)
            {
                if (useScore && Math.Abs(sv) > 1e-9) transfer = gv / sv - 1;
                else if (!useScore && gv > 0) transfer = sv / gv - 1;
            }
            rows.Add(new TransferRow(task, family, metric, useScore, g, s, transfer,
                Value(runs.FirstOrDefault(r => r.Role == TransferPlan.LeaveOut && r.Name == $"without-{family}")),
                Value(runs.FirstOrDefault(r => r.Role == TransferPlan.FineTuned && r.Name == $"without-{family}-finetuned")),
                Value(runs.FirstOrDefault(r => r.Role == TransferPlan.Scratch && r.Name == $"scratch-{family}"))));
        }
        return rows;
    }

    private static HeatmapSpec Matrix(IReadOnlyList<SubRunResult> runs, IReadOnlyList<string> tasks, string metric, string label)
    {
        var values = new double[runs.Count, tasks.Count];
        for (var r = 0; r < runs.Count; r++)
        for (var c = 0; c < tasks.Count; c++)
            values[r, c] = MeanMetric(runs[r], [tasks[c]], metric) ?? double.NaN;
        return new HeatmapSpec("training mixture × evaluated task: " + label, "trained model (mixture)", "evaluated task",
            runs.Select(r => r.Name).ToList(), tasks, values, label);
    }

    private static double? Score(SubRunResult run, string task) =>
        run.Evaluation.Tasks.FirstOrDefault(t => t.Task == task)?.NormalizedScore;

    private static double? MeanMetric(SubRunResult run, IReadOnlyList<string> tasks, string metric)
    {
        var values = run.Evaluation.Tasks.Where(t => tasks.Contains(t.Task))
            .Select(t => metric == "normalized_score" ? t.NormalizedScore : t.Metrics.TryGetValue(metric, out var v) ? v : (double?)null)
            .Where(v => v is { } x && double.IsFinite(x)).Select(v => v!.Value).ToList();
        return values.Count == 0 ? null : values.Average();
    }

    private static string Num(double? v) => v is { } x ? AtomicFiles.CsvNumber(x) : "";

    private static string ScalingSlug(string s) => Scaling.ScalingReport.Slug(s);
}
