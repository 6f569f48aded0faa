using ScottPlot;

namespace Generalist.Evaluation.Reporting;

/// <summary>One coloured series of a grouped bar chart: a value per group, optionally with an interval (NaN = no bar or no interval).</summary>
public sealed record BarSeries(string Name, double[] Values, double[]? Low = null, double[]? High = null);

/// <summary>A horizontal dashed reference line, e.g. the expert (100) and random (0) levels of a normalized score.</summary>
public sealed record ReferenceLine(string Name, double Y);

/// <summary>Grouped bars: one group per label on the x axis, one bar per series within each group.</summary>
public sealed record BarChartSpec(string Title, string XLabel, string YLabel, IReadOnlyList<string> Groups, IReadOnlyList<BarSeries> Series,
    IReadOnlyList<ReferenceLine>? References = null);

/// <summary>
/// Grouped bar charts with asymmetric interval whiskers, rendered like <see cref="Charts"/> (ScottPlot,
/// headless, same size and palette): PNG and SVG with the data as CSV and JSON beside them.
/// (Charts has line charts and heatmaps only.)
/// </summary>
public static class BarChart
{
    public static ChartFiles Write(string directory, string name, BarChartSpec spec)
    {
        foreach (var s in spec.Series)
            if (s.Values.Length != spec.Groups.Count || s.Low?.Length is { } l && l != spec.Groups.Count || s.High?.Length is { } h && h != spec.Groups.Count)
                throw new ArgumentException($"bar chart '{name}': series '{s.Name}' needs {spec.Groups.Count} values (one per group)");
        var plot = new Plot();
        plot.Title(spec.Title);
        plot.XLabel(spec.XLabel);
        plot.YLabel(spec.YLabel);
        var palette = new ScottPlot.Palettes.Category10();
        var n = Math.Max(spec.Series.Count, 1);
        const double groupWidth = 0.8;
        var barWidth = groupWidth / n;
        var dashed = new List<ScottPlot.Plottables.Scatter>();
        for (var si = 0; si < spec.Series.Count; si++)
        {
            var s = spec.Series[si];
            var color = palette.GetColor(si);
            var bars = new List<Bar>();
            List<double> ex = [], ey = [], up = [], down = [];
            for (var g = 0; g < spec.Groups.Count; g++)
            {
                var v = s.Values[g];
                if (!double.IsFinite(v)) continue;
                var x = g - groupWidth / 2 + barWidth * (si + 0.5);
                bars.Add(new Bar { Position = x, Value = v, ValueBase = 0, Size = barWidth * 0.9, FillColor = color, LineColor = color });
                var lo = s.Low?[g] ?? double.NaN;
                var hi = s.High?[g] ?? double.NaN;
                if (double.IsFinite(lo) && double.IsFinite(hi))
                {
                    ex.Add(x);
                    ey.Add(v);
                    down.Add(Math.Max(v - lo, 0));
                    up.Add(Math.Max(hi - v, 0));
                }
            }
            if (bars.Count == 0) continue;
            var plottable = plot.Add.Bars(bars);
            plottable.LegendText = s.Name;
            if (ex.Count > 0)
            {
                // Bar.Error is symmetric; a percentile interval is not, so the whiskers are an ErrorBar of their own.
                var zeros = new double[ex.Count];
                var whiskers = new ScottPlot.Plottables.ErrorBar(ex, ey, zeros, zeros, up, down)
                {
                    Color = Colors.Black, LineWidth = 1.5f, CapSize = (float)Math.Clamp(300 * barWidth / Math.Max(spec.Groups.Count, 1), 3, 12),
                };
                plot.Add.Plottable(whiskers);
            }
        }
        var references = spec.References ?? [];
        for (var r = 0; r < references.Count; r++)
        {
            var line = plot.Add.Scatter(new[] { -0.5, spec.Groups.Count - 0.5 }, new[] { references[r].Y, references[r].Y }, Colors.Gray.WithAlpha(0.6 + 0.4 * (r % 2)));
            line.LegendText = references[r].Name;
            line.MarkerSize = 0;
            line.LineWidth = 1.5f;
            line.LinePattern = r % 2 == 0 ? LinePattern.Dashed : LinePattern.Dotted;
            dashed.Add(line);
        }
        plot.Axes.Bottom.SetTicks(Enumerable.Range(0, spec.Groups.Count).Select(g => (double)g).ToArray(), spec.Groups.ToArray());
        var rotate = spec.Groups.Count > 4 || spec.Groups.Any(g => g.Length > 14);
        plot.Axes.Bottom.TickLabelStyle.Rotation = rotate ? 30 : 0;
        plot.Axes.Bottom.TickLabelStyle.Alignment = rotate ? Alignment.MiddleLeft : Alignment.UpperCenter;
        plot.ShowLegend(Alignment.UpperRight);

        var baseName = Path.Combine(directory, name);
        var files = new ChartFiles(baseName + ".png", baseName + ".svg", baseName + ".csv", baseName + ".json");
        Directory.CreateDirectory(directory);
        AtomicFiles.Write(files.Png, tmp => plot.SavePng(tmp, Charts.Width, Charts.Height));
        // Skia's SVG backend draws no dash patterns (and complains on stderr): solid lines in the SVG.
        foreach (var line in dashed) line.LinePattern = LinePattern.Solid;
        AtomicFiles.Write(files.Svg, tmp => plot.SaveSvg(tmp, Charts.Width, Charts.Height));
        var rows = spec.Series.SelectMany(s => spec.Groups.Select((g, i) => new[]
        {
            g, s.Name, AtomicFiles.CsvNumber(s.Values[i]),
            s.Low is null ? "" : AtomicFiles.CsvNumber(s.Low[i]), s.High is null ? "" : AtomicFiles.CsvNumber(s.High[i]),
        }));
        AtomicFiles.WriteText(files.Csv, AtomicFiles.Csv(["group", "series", "value", "low", "high"], rows));
        AtomicFiles.WriteJson(files.Json, spec);
        return files;
    }
}
