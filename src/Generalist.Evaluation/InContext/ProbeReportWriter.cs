using System.Globalization;
using Generalist.Evaluation.Reporting;

namespace Generalist.Evaluation.InContext;

/// <summary>Probe R^2 per layer and target, beside the random-init control: a table, a plot and a CSV.</summary>
public static class ProbeReportWriter
{
    public static void Write(MarkdownDocument md, ProbeReport report, string directory, string plots, string stem = "probes")
    {
        AtomicFiles.WriteText(Path.Combine(directory, $"{stem}.csv"), Csv(report));
        md.Heading(2, "Probes: what each layer encodes linearly");
        md.Paragraph($"Ridge probes (strength {report.Ridge.ToString("0.####", CultureInfo.InvariantCulture)} per row, standardized features) from the residual " +
                     $"stream at the position that predicts y_k (the separator after x_k) to what an in-context learner would compute from the k pairs before it. " +
                     $"Fitted on {report.TrainRows} rows of {report.TrainPrompts} prompts, R^2 (pooled over coordinates) on {report.TestRows} rows of " +
                     $"{report.TestPrompts} other prompts. Layer 0 is the embedding, layer l the output of block l. Control: the same probes on a randomly " +
                     $"initialised model of the same shape (seed {report.ControlSeed}); what the control reaches is decodable from the inputs without learning. " +
                     $"Numbers: `{stem}.csv`.");
        var layers = Enumerable.Range(0, report.Layers).Select(l => (double)l).ToArray();
        var series = new List<ChartSeries>();
        foreach (var target in report.Targets)
        {
            var rows = report.Results.Where(r => r.Target == target).OrderBy(r => r.Layer).ToList();
            series.Add(new ChartSeries(target, layers, rows.Select(r => r.R2).ToArray()));
            series.Add(new ChartSeries($"{target} (random init)", layers, rows.Select(r => r.ControlR2).ToArray(), Dotted: true));
        }
        var chart = Charts.Line(plots, $"{stem}_r2_per_layer", new LineChartSpec("Probe R^2 per layer (dotted: random-init control)", "layer", "held-out R^2", series));
        md.Chart("Probe R^2 per layer and target, trained model and random-init control", chart, directory);
        md.Table(["layer", .. report.Targets.Select(t => $"{t} R^2 (control)")], Enumerable.Range(0, report.Layers).Select(l => (IReadOnlyList<string>)
            [l.ToString(CultureInfo.InvariantCulture), .. report.Targets.Select(t =>
            {
                var r = report.Results.Single(x => x.Target == t && x.Layer == l);
                return $"{MarkdownDocument.Number(r.R2, "0.###")} ({MarkdownDocument.Number(r.ControlR2, "0.###")})";
            })]));
    }

    public static string Csv(ProbeReport report) =>
        AtomicFiles.Csv(["target", "layer", "r2", "control_r2"], report.Results.Select(r => new[]
        {
            r.Target, r.Layer.ToString(CultureInfo.InvariantCulture), AtomicFiles.CsvNumber(r.R2), AtomicFiles.CsvNumber(r.ControlR2),
        }));
}
