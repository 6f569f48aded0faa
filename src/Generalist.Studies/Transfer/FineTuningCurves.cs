using Generalist.Evaluation.Reporting;

namespace Generalist.Studies.Transfer;

/// <summary>One point of a fine-tuning or from-scratch curve (finetune_curves.csv).</summary>
public sealed record FineTuningPoint(string Family, string Task, string Run, string Role, long Step, double Loss);

/// <summary>
/// Gato's out-of-distribution ablation (section 5.2, figure 9): per left-out family, the held-out
/// loss of each of its tasks against fine-tuning step for the generalist trained without the family
/// and then fine-tuned on it, next to the same model trained on the family from scratch for the same
/// steps. Dashed lines give the final held-out loss of the task's specialist (trained from scratch
/// for the full budget) and of the generalist trained on everything. Step 0 of the fine-tuned curve
/// is the leave-one-out generalist before it has seen the family.
/// </summary>
internal static class FineTuningCurves
{
    public const string CsvFile = "finetune_curves.csv";

    public static void Write(MarkdownDocument md, string directory, StudyConfig config, IReadOnlyList<SubRunResult> runs, List<string> artifacts)
    {
        var plots = Path.Combine(directory, "plots");
        var points = new List<FineTuningPoint>();
        var summary = new List<IReadOnlyList<string>>();
        var generalist = runs.FirstOrDefault(r => r.Role == TransferPlan.Generalist);
        md.Heading(2, "Fine-tuning curves (left-out family)");
        md.Paragraph("Each chart: held-out loss of a left-out task while the generalist trained without its family is fine-tuned on it (solid), " +
                     "against the same model trained on the family from scratch for the same steps (dotted); dashed lines are the last held-out loss of the task's " +
                     "specialist (full budget, from scratch) and of the generalist trained on all tasks. Every value here is the trainer's held-out loss " +
                     "(the same held-out batches throughout), not the evaluator's. A fine-tuned curve below the scratch curve is positive transfer.");
        foreach (var family in config.Transfer.Families.Keys.OrderBy(f => f, StringComparer.Ordinal))
        {
            var members = config.BaseRun.Tasks.Select(t => t.Name).Where(config.Transfer.Families[family].Contains).ToList();
            var fine = runs.FirstOrDefault(r => r.Role == TransferPlan.FineTuned && r.Name == $"without-{family}-finetuned");
            var scratch = runs.FirstOrDefault(r => r.Role == TransferPlan.Scratch && r.Name == $"scratch-{family}");
            var series = new List<ChartSeries>();
            foreach (var task in members)
            {
                var prefix = members.Count > 1 ? task + ": " : "";
                var fineCurve = Curve(fine, task);
                var scratchCurve = Curve(scratch, task);
                if (fineCurve.Count == 0 && scratchCurve.Count == 0) continue;
                points.AddRange(fineCurve.Select(p => new FineTuningPoint(family, task, fine!.Name, fine.Role, p.Step, p.Loss)));
                points.AddRange(scratchCurve.Select(p => new FineTuningPoint(family, task, scratch!.Name, scratch.Role, p.Step, p.Loss)));
                if (fineCurve.Count > 0)
                    series.Add(new ChartSeries($"{prefix}fine-tuned (pre-trained without {family})", fineCurve.Select(p => (double)p.Step).ToArray(), fineCurve.Select(p => p.Loss).ToArray()));
                if (scratchCurve.Count > 0)
                    series.Add(new ChartSeries($"{prefix}from scratch, same steps", scratchCurve.Select(p => (double)p.Step).ToArray(), scratchCurve.Select(p => p.Loss).ToArray(), Dotted: true));
                var xMax = fineCurve.Concat(scratchCurve).Max(p => p.Step);
                var specialist = runs.FirstOrDefault(r => r.Role == TransferPlan.Specialist && r.Name == $"specialist-{task}");
                var specialistLoss = FinalHeldOut(specialist, task);
                var generalistLoss = FinalHeldOut(generalist, task);
                if (specialistLoss is { } s)
                    series.Add(new ChartSeries($"{prefix}specialist after {specialist!.Steps} steps", [0, xMax], [s, s], Markers: false, Dashed: true));
                if (generalistLoss is { } g)
                    series.Add(new ChartSeries($"{prefix}generalist after {generalist!.Steps} steps", [0, xMax], [g, g], Markers: false, Dashed: true));
                summary.Add([
                    family, task,
                    MarkdownDocument.Number(fineCurve.FirstOrDefault()?.Loss), MarkdownDocument.Number(fineCurve.LastOrDefault()?.Loss),
                    MarkdownDocument.Number(scratchCurve.FirstOrDefault()?.Loss), MarkdownDocument.Number(scratchCurve.LastOrDefault()?.Loss),
                    MarkdownDocument.Number(specialistLoss), MarkdownDocument.Number(generalistLoss),
                ]);
            }
            if (series.Count == 0) continue;
            var chart = Charts.Line(plots, $"finetune_{Scaling.ScalingReport.Slug(family)}",
                new LineChartSpec($"Left-out family '{family}': held-out loss while fine-tuning", "fine-tuning step", "held-out loss (nats/token)", series));
            md.Heading(3, family).Chart($"{family}: held-out loss while fine-tuning vs from scratch", chart, directory);
            artifacts.AddRange(chart.All);
        }
        if (summary.Count == 0)
        {
            md.Paragraph("No fine-tuning curves were recorded (leave-one-family-out is off, or the runs' held_out.every is 0).");
            return;
        }
        md.Paragraph("Held-out loss (nats/token) at the first and last point of each curve:");
        md.Table(["family", "task", "fine-tuned: start", "fine-tuned: end", "scratch: start", "scratch: end", "specialist (last)", "generalist (last)"], summary);
        var csv = Path.Combine(directory, CsvFile);
        AtomicFiles.WriteText(csv, AtomicFiles.Csv(["family", "task", "run", "role", "step", "loss"],
            points.Select(p => new[] { p.Family, p.Task, p.Run, p.Role, p.Step.ToString(System.Globalization.CultureInfo.InvariantCulture), AtomicFiles.CsvNumber(p.Loss) })));
        md.Paragraph($"Every curve point: [{CsvFile}]({CsvFile}).");
        artifacts.Add(csv);
    }

    /// <summary>
    /// A reference line must be the same measurement as the curves: the trainer's held-out loss
    /// (same held-out batches, same cadence), at the run's last evaluation. The evaluator's loss
    /// scores other held-out sequences and would not be comparable.
    /// </summary>
    private static double? FinalHeldOut(SubRunResult? run, string task) => Curve(run, task).LastOrDefault()?.Loss;

    private static List<CurvePoint> Curve(SubRunResult? run, string task) =>
        run is null ? [] : run.HeldOutCurve.Where(p => p.Task == task && double.IsFinite(p.Loss)).OrderBy(p => p.Step).ToList();
}
