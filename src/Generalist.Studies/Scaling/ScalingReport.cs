using Generalist.Evaluation.Reporting;
using Generalist.Evaluation.Statistics;

namespace Generalist.Studies.Scaling;

/// <summary>Plots, tables and report.md for a scaling analysis (used by `study scaling` and `study fit`).</summary>
public static class ScalingReport
{
    /// <summary>Writes everything under <paramref name="directory"/>; returns report.md's path and all artifacts.</summary>
    public static (string ReportPath, List<string> Artifacts) Write(string directory, string title, IReadOnlyList<ScalingRow> rows, ScalingAnalysisResult analysis, MarkdownDocument? preface = null)
    {
        Directory.CreateDirectory(directory);
        var plots = Path.Combine(directory, "plots");
        var artifacts = new List<string>();
        var md = new MarkdownDocument().Heading(1, title);
        if (preface is not null) md.Paragraph(preface.ToString().TrimEnd());
        var c = analysis.Bootstrap.Confidence;
        md.Paragraph($"Fits by nonlinear least squares (grid start, then Levenberg-Marquardt). Intervals: {c:P0} bootstrap percentile intervals " +
                     $"({analysis.Bootstrap.Samples} resamples, seed {analysis.Bootstrap.Seed}). Training FLOPs C = 6·N·D. " +
                     $"Extrapolation to {analysis.ExtrapolationFactor:0.#}x the largest size.");

        md.Heading(2, "Fits per task");
        md.Table(["task", "points", "sizes", "token budgets", "E", "A (raw)", "alpha", "alpha interval", "RMSE", "N extrapolated", "L extrapolated", "L interval"],
            analysis.Tasks.Select(t => (IReadOnlyList<string>)
            [
                t.Task, t.Points.ToString(), t.Sizes.ToString(), t.TokenBudgets.ToString(),
                MarkdownDocument.Number(t.LossVsParams?.Fit.E), MarkdownDocument.Scientific(t.LossVsParams?.Fit.ARaw),
                MarkdownDocument.Number(t.LossVsParams?.Fit.Alpha), Range(t.LossVsParams?.AlphaInterval),
                MarkdownDocument.Number(t.LossVsParams?.Fit.Rmse), MarkdownDocument.Scientific(t.LossVsParams?.ExtrapolationN),
                MarkdownDocument.Number(t.LossVsParams?.ExtrapolatedLoss), Range(t.LossVsParams?.ExtrapolatedLossInterval),
            ]));
        if (analysis.Tasks.Any(t => t.Joint is not null))
        {
            md.Heading(3, "L(N, D) = E + A/N^alpha + B/D^beta");
            md.Table(["task", "E", "alpha", "alpha interval", "beta", "beta interval", "RMSE"],
                analysis.Tasks.Where(t => t.Joint is not null).Select(t => (IReadOnlyList<string>)
                [
                    t.Task, MarkdownDocument.Number(t.Joint!.Fit.E), MarkdownDocument.Number(t.Joint.Fit.Alpha), Range(t.Joint.AlphaInterval),
                    MarkdownDocument.Number(t.Joint.Fit.Beta), Range(t.Joint.BetaInterval), MarkdownDocument.Number(t.Joint.Fit.Rmse),
                ]));
        }
        md.Heading(3, "Loss against training FLOPs: L(C) = E + A·C^-gamma");
        md.Table(["task", "E", "gamma", "gamma interval", "RMSE"], analysis.Tasks.Select(t => (IReadOnlyList<string>)
        [
            t.Task, MarkdownDocument.Number(t.LossVsFlops?.Fit.E), MarkdownDocument.Number(t.LossVsFlops?.Fit.Alpha), Range(t.LossVsFlops?.AlphaInterval),
            MarkdownDocument.Number(t.LossVsFlops?.Fit.Rmse),
        ]));
        if (analysis.Tasks.Any(t => t.ScoreVsLoss is not null))
        {
            md.Heading(3, "Normalized score against loss: S(L) = 100 / (1 + exp((L - L50) / s))");
            md.Table(["task", "L50 (loss at half of expert)", "L50 interval", "s", "RMSE", "score extrapolated", "score interval"],
                analysis.Tasks.Where(t => t.ScoreVsLoss is not null).Select(t => (IReadOnlyList<string>)
                [
                    t.Task, MarkdownDocument.Number(t.ScoreVsLoss!.Fit.Mid), Range(t.ScoreVsLoss.MidInterval), MarkdownDocument.Number(t.ScoreVsLoss.Fit.Scale),
                    MarkdownDocument.Number(t.ScoreVsLoss.Fit.Rmse), MarkdownDocument.Number(t.ExtrapolatedScore, "0.#"), Range(t.ExtrapolatedScoreInterval, "0.#"),
                ]));
        }
        var notes = analysis.Tasks.SelectMany(t => t.Notes.Select(n => $"{t.Task}: {n}")).ToList();
        if (notes.Count > 0) md.Heading(3, "Notes").Bullets(notes);

        md.Heading(2, "Plots");
        foreach (var t in analysis.Tasks)
        {
            var taskRows = rows.Where(r => r.Task == t.Task).ToList();
            var slug = Slug(t.Task);
            md.Heading(3, t.Task);
            var lossN = Charts.Line(plots, $"loss_vs_params_{slug}", LossSpec(t.Task, taskRows, t.LossVsParams, r => r.Params, "parameters", "parameters N", c));
            md.Chart($"{t.Task}: held-out loss vs parameters", lossN, directory);
            var lossC = Charts.Line(plots, $"loss_vs_flops_{slug}", LossSpec(t.Task, taskRows, t.LossVsFlops, r => r.Flops, "training FLOPs", "training FLOPs C = 6ND", c));
            md.Chart($"{t.Task}: held-out loss vs training FLOPs", lossC, directory);
            artifacts.AddRange(lossN.All.Concat(lossC.All));
            var scored = taskRows.Where(r => r.Score is not null).ToList();
            if (scored.Count > 0)
            {
                var scoreN = Charts.Line(plots, $"score_vs_params_{slug}", new LineChartSpec($"{t.Task}: normalized score vs parameters", "parameters N", "normalized score (0 random, 100 expert)",
                    [new ChartSeries("measured", scored.Select(r => r.Params).ToArray(), scored.Select(r => r.Score!.Value).ToArray(), Line: false), .. ScoreReferences(scored.Select(r => r.Params))], LogX: true));
                var scoreC = Charts.Line(plots, $"score_vs_flops_{slug}", new LineChartSpec($"{t.Task}: normalized score vs training FLOPs", "training FLOPs C = 6ND", "normalized score (0 random, 100 expert)",
                    [new ChartSeries("measured", scored.Select(r => r.Flops).ToArray(), scored.Select(r => r.Score!.Value).ToArray(), Line: false), .. ScoreReferences(scored.Select(r => r.Flops))], LogX: true));
                md.Chart($"{t.Task}: normalized score vs parameters", scoreN, directory);
                md.Chart($"{t.Task}: normalized score vs training FLOPs", scoreC, directory);
                artifacts.AddRange(scoreN.All.Concat(scoreC.All));
                // Score against loss is drawn whether or not the sigmoid could be fitted (the notes say why not).
                var lo = Math.Min(scored.Min(r => r.Loss), t.ScoreVsLoss is null ? double.PositiveInfinity : t.LossVsParams?.ExtrapolatedLoss ?? double.PositiveInfinity);
                var hi = scored.Max(r => r.Loss);
                var grid = Enumerable.Range(0, 60).Select(i => lo - 0.05 * (hi - lo) + (1.1 * (hi - lo) + 1e-9) * i / 59.0).ToArray();
                var scoreSeries = new List<ChartSeries> { new("measured", scored.Select(r => r.Loss).ToArray(), scored.Select(r => r.Score!.Value).ToArray(), Line: false) };
                if (t.ScoreVsLoss is { } s) scoreSeries.Add(new ChartSeries($"sigmoid fit (L50 = {s.Fit.Mid:0.###})", grid, grid.Select(s.Fit.Predict).ToArray(), Markers: false));
                scoreSeries.AddRange(ScoreReferences(grid));
                var chart = Charts.Line(plots, $"score_vs_loss_{slug}", new LineChartSpec($"{t.Task}: normalized score vs held-out loss", "held-out loss (nats/token)", "normalized score (0 random, 100 expert)", scoreSeries));
                md.Chart($"{t.Task}: normalized score vs loss" + (t.ScoreVsLoss is null ? " (no sigmoid: see the notes)" : " with sigmoid fit"), chart, directory);
                artifacts.AddRange(chart.All);
            }
        }
        var rowsCsv = Path.Combine(directory, "results.csv");
        if (!File.Exists(rowsCsv) || File.ReadAllText(rowsCsv) != ScalingResultsCsv.Format(rows)) AtomicFiles.WriteText(rowsCsv, ScalingResultsCsv.Format(rows));
        var fitsJson = Path.Combine(directory, "scaling_fits.json");
        AtomicFiles.WriteJson(fitsJson, analysis);
        var fitsCsv = Path.Combine(directory, "scaling_fits.csv");
        AtomicFiles.WriteText(fitsCsv, AtomicFiles.Csv(["task", "law", "E", "A_raw", "alpha", "alpha_low", "alpha_high", "rmse", "extrapolation_x", "extrapolated_loss", "extrapolated_low", "extrapolated_high"],
            analysis.Tasks.SelectMany(t => new[] { ("L(N)", t.LossVsParams), ("L(C)", t.LossVsFlops) }.Where(x => x.Item2 is not null).Select(x => new[]
            {
                t.Task, x.Item1, AtomicFiles.CsvNumber(x.Item2!.Fit.E), AtomicFiles.CsvNumber(x.Item2.Fit.ARaw), AtomicFiles.CsvNumber(x.Item2.Fit.Alpha),
                AtomicFiles.CsvNumber(x.Item2.AlphaInterval?.Low ?? double.NaN), AtomicFiles.CsvNumber(x.Item2.AlphaInterval?.High ?? double.NaN),
                AtomicFiles.CsvNumber(x.Item2.Fit.Rmse), AtomicFiles.CsvNumber(x.Item2.ExtrapolationN), AtomicFiles.CsvNumber(x.Item2.ExtrapolatedLoss),
                AtomicFiles.CsvNumber(x.Item2.ExtrapolatedLossInterval?.Low ?? double.NaN), AtomicFiles.CsvNumber(x.Item2.ExtrapolatedLossInterval?.High ?? double.NaN),
            }))));
        md.Heading(2, "Data").Bullets([$"[results.csv](results.csv): the measured points", "[scaling_fits.json](scaling_fits.json) and [scaling_fits.csv](scaling_fits.csv): every fit with its intervals"]);
        var report = Path.Combine(directory, "report.md");
        AtomicFiles.WriteText(report, md.ToString());
        artifacts.AddRange([rowsCsv, fitsJson, fitsCsv, report]);
        return (report, artifacts);
    }

    /// <summary>
    /// Dashed lines at the random policy (0) and the expert (100): they keep the score axis on the
    /// 0-100 scale, so scores that differ by noise near one level are not stretched over the plot.
    /// </summary>
    private static ChartSeries[] ScoreReferences(IEnumerable<double> xs)
    {
        var list = xs.ToList();
        double lo = list.Min(), hi = list.Max();
        if (hi <= lo) hi = lo * 1.01 + 1e-12;
        return
        [
            new ChartSeries("expert (100)", [lo, hi], [100, 100], Markers: false, Dashed: true),
            new ChartSeries("random policy (0)", [lo, hi], [0, 0], Markers: false, Dashed: true),
        ];
    }

    private static LineChartSpec LossSpec(string task, List<ScalingRow> rows, PowerLawEstimate? estimate, Func<ScalingRow, double> x, string xName, string xLabel, double confidence)
    {
        var series = new List<ChartSeries>();
        foreach (var g in rows.GroupBy(r => r.Tokens).OrderBy(g => g.Key))
            series.Add(new ChartSeries(rows.Select(r => r.Tokens).Distinct().Count() > 1 ? $"measured, D = {g.Key:0.##e0} tokens" : "measured",
                g.Select(x).ToArray(), g.Select(r => r.Loss).ToArray(), Line: false));
        if (estimate is not null)
        {
            var lo = Math.Log10(rows.Min(x));
            var hi = Math.Log10(estimate.ExtrapolationN);
            var grid = Enumerable.Range(0, 60).Select(i => Math.Pow(10, lo + (hi - lo) * i / 59.0)).ToArray();
            var band = estimate.Band(grid, confidence);
            series.Add(new ChartSeries($"fit: {estimate.Fit.E:0.###} + A·x^-{estimate.Fit.Alpha:0.###}", grid, grid.Select(estimate.Fit.Predict).ToArray(),
                Markers: false, Low: band?.Low, High: band?.High));
            var iv = estimate.ExtrapolatedLossInterval;
            series.Add(new ChartSeries($"extrapolated to {estimate.ExtrapolationN:0.##e0}", [estimate.ExtrapolationN], [estimate.ExtrapolatedLoss], Line: false,
                Low: iv is null ? null : [iv.Low], High: iv is null ? null : [iv.High]));
        }
        // A log loss axis only helps when the losses span more than a decade; otherwise it leaves no tick labels.
        var logY = rows.Max(r => r.Loss) > 10 * Math.Max(rows.Min(r => r.Loss), 1e-12);
        return new LineChartSpec($"{task}: held-out loss vs {xName}", xLabel, "held-out loss (nats/token)", series, LogX: true, LogY: logY);
    }

    private static string Range(Interval? i, string format = "0.####") =>
        i is null ? "–" : $"[{MarkdownDocument.Number(i.Low, format)}, {MarkdownDocument.Number(i.High, format)}]";

    /// <summary>A file-name-safe form of a task name.</summary>
    public static string Slug(string s) => new(s.Select(ch => char.IsAsciiLetterOrDigit(ch) || ch is '-' or '_' ? ch : '_').ToArray());
}
