using System.Globalization;
using Generalist.Evaluation.Reporting;

namespace Generalist.Evaluation.InContext;

/// <summary>
/// Writes an <see cref="IclReport"/>: a Markdown section (tables, MSE-vs-k plots with a log y axis,
/// an agreement heatmap algorithm x k) into a document, and the same numbers as JSON and one long CSV
/// (condition, kind, curve, k, value, low, high, count) for anyone's own plots.
/// </summary>
public static class IclReportWriter
{
    /// <summary>Writes icl.json and icl.csv into <paramref name="directory"/> and the section's plots under <paramref name="plots"/>.</summary>
    public static void Write(MarkdownDocument md, IclReport report, string directory, string plots, string stem = "icl")
    {
        AtomicFiles.WriteJson(Path.Combine(directory, $"{stem}.json"), report);
        AtomicFiles.WriteText(Path.Combine(directory, $"{stem}.csv"), Csv(report));
        md.Heading(2, $"In-context regression ({report.Function}, d = {report.Dimension}, {report.TrainedPairs} pairs trained)");
        md.Paragraph($"Every algorithm predicts each query from the k pairs before it, on the same prompts as the model (the model's prediction is the " +
                     $"expected bin centre of its distribution). Intervals: {report.Confidence:P0} percentile bootstrap over prompts, {report.BootstrapSamples} " +
                     $"resamples, seed {report.BootstrapSeed}, shared by every curve. Gradient descent starts at w = 0; its step size per step count was " +
                     $"chosen on other held-out prompts: {string.Join(", ", report.GdStepSizes.Select(kv => FormattableString.Invariant($"{kv.Key} eta {kv.Value:0.###}")))}. " +
                     $"Numbers: `{stem}.json`, `{stem}.csv`.");
        foreach (var c in report.Conditions) WriteCondition(md, report, c, directory, plots, stem);
    }

    private static void WriteCondition(MarkdownDocument md, IclReport report, IclCondition c, string directory, string plots, string stem)
    {
        md.Heading(3, $"{c.Name}: {c.Description} ({c.Prompts} prompts)");
        var ks = Enumerable.Range(0, c.MaxK + 1).Select(k => (double)k).ToArray();
        // Noiseless targets let least squares reach ~1e-16 once k >= d: values under a floor three
        // decades below the model's smallest error are drawn at the floor (tables keep them exact).
        var floor = c.Model.Mse.Where(v => v > 0 && double.IsFinite(v)).DefaultIfEmpty(1).Min() / 1000;
        double[] Floored(double[] v) => v.Select(x => double.IsFinite(x) ? Math.Max(x, floor) : x).ToArray();
        var shown = new[] { c.Model }.Concat(c.Algorithms.Where(a => a.Name is not IclAlgorithms.Mean)).ToList();
        var series = shown.Select(s => new ChartSeries(s.Name.Replace('_', ' '), ks, Floored(s.Mse),
            Low: s.Name == "model" ? Floored(s.Interval.Select(i => i?.Low ?? double.NaN).ToArray()) : null,
            High: s.Name == "model" ? Floored(s.Interval.Select(i => i?.High ?? double.NaN).ToArray()) : null,
            Dashed: s.Name.StartsWith("gd_", StringComparison.Ordinal))).ToList();
        var chart = Charts.Line(plots, $"{stem}_mse_vs_k_{c.Name}", new LineChartSpec($"{c.Name}: MSE vs in-context examples (log y, floor {floor:0.#e0})",
            "in-context examples k", "mean squared error", series, LogY: true));
        md.Chart($"{c.Name}: MSE vs k, the model (with its interval) and every algorithm", chart, directory);
        md.Table(["k", "model [95% CI]", .. c.Algorithms.Select(a => a.Name)], Enumerable.Range(0, c.MaxK + 1).Select(k => (IReadOnlyList<string>)
            [k.ToString(CultureInfo.InvariantCulture), WithInterval(c.Model.Mse[k], c.Model.Interval[k]), .. c.Algorithms.Select(a => Num(a.Mse[k]))]));
        var closest = Enumerable.Range(0, c.MaxK + 1).Select(k => c.Agreement.Where(a => double.IsFinite(a.MeanSquaredDifference[k]))
            .OrderBy(a => a.MeanSquaredDifference[k]).Select(a => a.Algorithm).FirstOrDefault() ?? "-").ToList();
        md.Paragraph($"Agreement: mean squared difference between the model's predictions and each algorithm's on the same queries (lower = the model " +
                     $"behaves more like it). Closest algorithm per k: {string.Join(", ", closest.Select((a, k) => $"k={k} {a}"))}.");
        var values = new double[c.Agreement.Count, c.MaxK + 1];
        for (var a = 0; a < c.Agreement.Count; a++)
        for (var k = 0; k <= c.MaxK; k++)
            values[a, k] = Math.Log10(Math.Max(c.Agreement[a].MeanSquaredDifference[k], 1e-12));
        var heat = Charts.Heatmap(plots, $"{stem}_agreement_{c.Name}", new HeatmapSpec($"{c.Name}: log10 mean squared difference, model vs algorithm",
            "algorithm", "in-context examples k", c.Agreement.Select(a => a.Algorithm).ToList(), ks.Select(k => ((int)k).ToString(CultureInfo.InvariantCulture)).ToList(),
            values, "log10 MSD"));
        md.Chart($"{c.Name}: agreement heatmap (algorithm x k)", heat, directory);
        md.Table(["k", .. c.Agreement.Select(a => a.Algorithm)], Enumerable.Range(0, c.MaxK + 1).Select(k => (IReadOnlyList<string>)
            [k.ToString(CultureInfo.InvariantCulture), .. c.Agreement.Select(a => WithInterval(a.MeanSquaredDifference[k], a.Interval[k]))]));
    }

    private static string Num(double v) => MarkdownDocument.Number(v, "0.#####");

    private static string WithInterval(double v, Statistics.Interval? i) => i is null ? Num(v) : $"{Num(v)} [{Num(i.Low)}, {Num(i.High)}]";

    public static string Csv(IclReport report)
    {
        var rows = new List<string[]>();
        foreach (var c in report.Conditions)
        {
            foreach (var curve in new[] { c.Model }.Concat(c.Algorithms))
                for (var k = 0; k <= c.MaxK; k++)
                    rows.Add(Row(c.Name, "mse", curve.Name, k, curve.Mse[k], curve.Interval[k], curve.Count[k]));
            foreach (var a in c.Agreement)
                for (var k = 0; k <= c.MaxK; k++)
                    rows.Add(Row(c.Name, "agreement", a.Algorithm, k, a.MeanSquaredDifference[k], a.Interval[k], c.Prompts));
        }
        return AtomicFiles.Csv(["condition", "kind", "curve", "k", "value", "low", "high", "count"], rows);
    }

    private static string[] Row(string condition, string kind, string curve, int k, double value, Statistics.Interval? interval, int count) =>
    [
        condition, kind, curve, k.ToString(CultureInfo.InvariantCulture), AtomicFiles.CsvNumber(value),
        AtomicFiles.CsvNumber(interval?.Low ?? double.NaN), AtomicFiles.CsvNumber(interval?.High ?? double.NaN), count.ToString(CultureInfo.InvariantCulture),
    ];
}
