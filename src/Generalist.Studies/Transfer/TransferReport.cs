using Generalist.Evaluation;
using Generalist.Evaluation.Reporting;

namespace Generalist.Studies.Transfer;

/// <summary>
/// One row of the per-task transfer table. Advantage/Transfer/TransferNote compare generalist and
/// specialist on the task's primary metric (see <see cref="TransferMeasure"/>); LossTransfer does the
/// same on held-out loss, which every task has, so a control task whose specialist is still near
/// random (score ratio undefined) has a relative transfer measure too.
/// </summary>
public sealed record TransferRow(
    string Task,
    string? Family,
    string Metric,
    bool HigherIsBetter,
    double? Generalist,
    double? Specialist,
    double? Advantage,
    double? Transfer,
    string? TransferNote,
    double? GeneralistLoss,
    double? SpecialistLoss,
    double? LossTransfer,
    double? WithoutFamily,
    double? FineTuned,
    double? Scratch);

/// <summary>
/// The transfer report: the per-task table, heatmaps of training mixture x evaluated task (held-out
/// loss, and normalized score where control tasks exist) and the fine-tuning curves
/// (<see cref="FineTuningCurves"/>). Transfer is defined in <see cref="TransferMeasure"/>.
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
        md.Paragraph("Primary metric: normalized score for control tasks (0 = random policy, 100 = expert), held-out loss otherwise. " +
                     "Difference = generalist − specialist for a score, specialist − generalist for a loss (nats/token), so positive always means the generalist is better. " +
                     $"Transfer = generalist / specialist − 1 for a score, reported only when the specialist scores at least {TransferMeasure.MinSpecialistScore:0} " +
                     "(normalized scores near or below 0 make the ratio meaningless: huge, infinite or of the wrong sign), otherwise \"undefined\" and the difference is the measure; " +
                     "for a loss, specialist / generalist − 1. Loss transfer applies the loss formula to the held-out loss of every task, control tasks included.");
        if (notes is { Count: > 0 }) md.Bullets(notes);
        md.Heading(2, "Per task");
        md.Table(["task", "family", "metric", "generalist", "specialist", "difference", "transfer", "loss transfer", "without family", "fine-tuned", "from scratch"],
            rows.Select(r => (IReadOnlyList<string>)
            [
                r.Task, r.Family ?? "–", r.Metric + (r.HigherIsBetter ? " ↑" : " ↓"), MarkdownDocument.Number(r.Generalist), MarkdownDocument.Number(r.Specialist),
                Signed(r.Advantage, "0.####"), r.Transfer is null && r.TransferNote is not null ? "undefined" : Percent(r.Transfer), Percent(r.LossTransfer),
                MarkdownDocument.Number(r.WithoutFamily), MarkdownDocument.Number(r.FineTuned), MarkdownDocument.Number(r.Scratch),
            ]));
        var undefined = rows.Where(r => r.TransferNote is not null).Select(r => $"{r.Task}: transfer undefined ({r.TransferNote}); difference {Signed(r.Advantage, "0.#")}").ToList();
        if (undefined.Count > 0) md.Bullets(undefined);
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

        FineTuningCurves.Write(md, directory, config, runs, artifacts);

        md.Heading(2, "Sub-runs").Table(["run", "role", "tasks", "steps", "initialized from", "checkpoint", "evaluation"],
            runs.Select(r => (IReadOnlyList<string>)
            [
                r.Name, r.Role, string.Join(", ", r.Tasks), r.Steps.ToString(), r.InitializedFrom is null ? "–" : Path.GetRelativePath(directory, r.InitializedFrom),
                Path.GetRelativePath(directory, r.Checkpoint), $"[evaluation.md]({Path.GetRelativePath(directory, r.Evaluation.MarkdownPath).Replace('\\', '/')})",
            ]));
        var tableCsv = Path.Combine(directory, "transfer.csv");
        AtomicFiles.WriteText(tableCsv, AtomicFiles.Csv(["task", "family", "metric", "higher_is_better", "generalist", "specialist", "difference", "transfer", "transfer_note",
                "generalist_loss", "specialist_loss", "loss_transfer", "without_family", "fine_tuned", "scratch"],
            rows.Select(r => new[]
            {
                r.Task, r.Family ?? "", r.Metric, r.HigherIsBetter ? "true" : "false", Num(r.Generalist), Num(r.Specialist), Num(r.Advantage), Num(r.Transfer),
                r.TransferNote ?? "", Num(r.GeneralistLoss), Num(r.SpecialistLoss), Num(r.LossTransfer), Num(r.WithoutFamily), Num(r.FineTuned), Num(r.Scratch),
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
            double? Value(SubRunResult? r, string m) => r is null ? null : MeanMetric(r, [task], m);
            var specialist = runs.FirstOrDefault(r => r.Role == TransferPlan.Specialist && r.Name == $"specialist-{task}");
            var g = Value(generalist, metric);
            var s = Value(specialist, metric);
            var primary = g is { } gv && s is { } sv ? TransferMeasure.Compute(gv, sv, useScore) : null;
            var gLoss = Value(generalist, "loss");
            var sLoss = Value(specialist, "loss");
            var loss = gLoss is { } gl && sLoss is { } sl ? TransferMeasure.Compute(gl, sl, higherIsBetter: false) : null;
            rows.Add(new TransferRow(task, family, metric, useScore, g, s, primary?.Advantage, primary?.Ratio, primary?.Note, gLoss, sLoss, loss?.Ratio,
                Value(runs.FirstOrDefault(r => r.Role == TransferPlan.LeaveOut && r.Name == $"without-{family}"), metric),
                Value(runs.FirstOrDefault(r => r.Role == TransferPlan.FineTuned && r.Name == $"without-{family}-finetuned"), metric),
                Value(runs.FirstOrDefault(r => r.Role == TransferPlan.Scratch && r.Name == $"scratch-{family}"), metric)));
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

    internal static double? MeanMetric(SubRunResult run, IReadOnlyList<string> tasks, string metric)
    {
        var values = run.Evaluation.Tasks.Where(t => tasks.Contains(t.Task))
            .Select(t => metric == "normalized_score" ? t.NormalizedScore : t.Metrics.TryGetValue(metric, out var v) ? v : (double?)null)
            .Where(v => v is { } x && double.IsFinite(x)).Select(v => v!.Value).ToList();
        return values.Count == 0 ? null : values.Average();
    }

    private static string Num(double? v) => v is { } x ? AtomicFiles.CsvNumber(x) : "";

    private static string Signed(double? v, string format) => v is { } x && double.IsFinite(x) ? (x >= 0 ? "+" : "") + MarkdownDocument.Number(x, format) : "–";

    private static string Percent(double? ratio) => ratio is { } t && double.IsFinite(t) ? Signed(100 * t, "0.#") + "%" : "–";
}
