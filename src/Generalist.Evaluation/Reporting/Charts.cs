using System.Globalization;
using ScottPlot;

namespace Generalist.Evaluation.Reporting;

/// <summary>One line or point series; Low/High (optional) draw a shaded interval band.</summary>
public sealed record ChartSeries(string Name, double[] X, double[] Y, bool Line = true, bool Markers = true, double[]? Low = null, double[]? High = null, bool Dashed = false, bool Dotted = false);

/// <summary>A line chart; LogX/LogY plot log10 of the data with decade ticks labelled in the original units.</summary>
public sealed record LineChartSpec(string Title, string XLabel, string YLabel, IReadOnlyList<ChartSeries> Series, bool LogX = false, bool LogY = false);

/// <summary>A matrix of values (rows x columns) with labels; NaN cells are shown blank.</summary>
public sealed record HeatmapSpec(string Title, string RowAxis, string ColumnAxis, IReadOnlyList<string> Rows, IReadOnlyList<string> Columns, double[,] Values, string ValueLabel);

/// <summary>The files one chart produced (PNG, SVG, and the data as CSV and JSON).</summary>
public sealed record ChartFiles(string Png, string Svg, string Csv, string Json)
{
    public IEnumerable<string> All => [Png, Svg, Csv, Json];
}

/// <summary>
/// ScottPlot charts rendered headless (SkiaSharp), saved as PNG and SVG with their data as CSV and
/// JSON beside them so every number in a plot can be read back.
/// </summary>
public static class Charts
{
    public const int Width = 900, Height = 600;

    public static ChartFiles Line(string directory, string name, LineChartSpec spec)
    {
        var plot = new Plot();
        plot.Title(spec.Title);
        plot.XLabel(spec.XLabel + (spec.LogX ? " (log scale)" : ""));
        plot.YLabel(spec.YLabel + (spec.LogY ? " (log scale)" : ""));
        var palette = new ScottPlot.Palettes.Category10();
        var index = 0;
        foreach (var s in spec.Series)
        {
            var color = palette.GetColor(index++);
            var keep = Enumerable.Range(0, s.X.Length).Where(i => Valid(s.X[i], spec.LogX) && Valid(s.Y[i], spec.LogY)).ToArray();
            if (keep.Length == 0) continue;
            var xs = keep.Select(i => Transform(s.X[i], spec.LogX)).ToArray();
            var ys = keep.Select(i => Transform(s.Y[i], spec.LogY)).ToArray();
            if (s.Low is { } low && s.High is { } high)
            {
                var band = keep.Where(i => Valid(low[i], spec.LogY) && Valid(high[i], spec.LogY)).ToArray();
                if (band.Length == 1)
                {
                    // A single point's interval is drawn as a vertical bar.
                    var i = band[0];
                    var bar = plot.Add.Line(Transform(s.X[i], spec.LogX), Transform(low[i], spec.LogY), Transform(s.X[i], spec.LogX), Transform(high[i], spec.LogY));
                    bar.LineColor = color;
                    bar.LineWidth = 2;
                }
                if (band.Length >= 2)
                {
                    var fill = plot.Add.FillY(
                        band.Select(i => Transform(s.X[i], spec.LogX)).ToArray(),
                        band.Select(i => Transform(low[i], spec.LogY)).ToArray(),
                        band.Select(i => Transform(high[i], spec.LogY)).ToArray());
                    fill.FillStyle.Color = color.WithAlpha(0.2);
                    fill.LineStyle.Width = 0;
                }
            }
            var scatter = plot.Add.Scatter(xs, ys, color);
            scatter.LegendText = s.Name;
            scatter.LineWidth = s.Line ? 2 : 0;
            scatter.MarkerSize = s.Markers ? 7 : 0;
            if (s.Dashed) scatter.LinePattern = LinePattern.Dashed;
            else if (s.Dotted) scatter.LinePattern = LinePattern.Dotted;
        }
        if (spec.LogX) LogTicks(plot.Axes.Bottom);
        if (spec.LogY) LogTicks(plot.Axes.Left);
        plot.ShowLegend(Alignment.UpperRight);
        var files = Save(plot, directory, name);
        var rows = spec.Series.SelectMany(s => s.X.Select((x, i) => new[]
        {
            s.Name, AtomicFiles.CsvNumber(x), AtomicFiles.CsvNumber(s.Y[i]),
            s.Low is null ? "" : AtomicFiles.CsvNumber(s.Low[i]), s.High is null ? "" : AtomicFiles.CsvNumber(s.High[i]),
        }));
        AtomicFiles.WriteText(files.Csv, AtomicFiles.Csv(["series", "x", "y", "low", "high"], rows));
        AtomicFiles.WriteJson(files.Json, spec);
        return files;
    }

    public static ChartFiles Heatmap(string directory, string name, HeatmapSpec spec)
    {
        int rows = spec.Rows.Count, cols = spec.Columns.Count;
        if (spec.Values.GetLength(0) != rows || spec.Values.GetLength(1) != cols)
            throw new ArgumentException($"heatmap '{name}': values are {spec.Values.GetLength(0)}x{spec.Values.GetLength(1)}, labels {rows}x{cols}");
        var plot = new Plot();
        plot.Title(spec.Title);
        // ScottPlot 5.1 spreads the cell CENTRES over Position (cell size = extent / (n - 1)), so a
        // single column or row has no size and is not drawn at all. A lone column (row) is padded
        // with a NaN one that lies outside the axis limits; Rectangle takes the outer edges.
        int drawnRows = Math.Max(rows, 2), drawnCols = Math.Max(cols, 2);
        var drawn = new double[drawnRows, drawnCols];
        for (var r = 0; r < drawnRows; r++)
        for (var c = 0; c < drawnCols; c++)
            drawn[r, c] = r < rows && c < cols ? spec.Values[r, c] : double.NaN;
        var heatmap = plot.Add.Heatmap(drawn);
        heatmap.Colormap = new ScottPlot.Colormaps.Viridis();
        // Cell (r, c) is centred on (c, rows - 1 - r): the first row is drawn at the top.
        heatmap.Rectangle = new CoordinateRect(-0.5, drawnCols - 0.5, rows - 0.5 - drawnRows, rows - 0.5);
        var bar = plot.Add.ColorBar(heatmap);
        bar.Label = spec.ValueLabel;
        for (var r = 0; r < rows; r++)
        for (var c = 0; c < cols; c++)
        {
            var v = spec.Values[r, c];
            if (!double.IsFinite(v)) continue;
            var text = plot.Add.Text(v.ToString("0.###", CultureInfo.InvariantCulture), c, rows - 1 - r);
            text.LabelAlignment = Alignment.MiddleCenter;
            text.LabelFontColor = Colors.White;
            text.LabelBackgroundColor = Colors.Black.WithAlpha(0.45);
            text.LabelFontSize = 13;
        }
        plot.Axes.Bottom.SetTicks(Enumerable.Range(0, cols).Select(c => (double)c).ToArray(), spec.Columns.ToArray());
        plot.Axes.Left.SetTicks(Enumerable.Range(0, rows).Select(r => (double)(rows - 1 - r)).ToArray(), spec.Rows.ToArray());
        plot.Axes.Bottom.TickLabelStyle.Rotation = cols > 4 ? 35 : 0;
        plot.Axes.Bottom.TickLabelStyle.Alignment = cols > 4 ? Alignment.MiddleLeft : Alignment.UpperCenter;
        plot.XLabel(spec.ColumnAxis);
        plot.YLabel(spec.RowAxis);
        plot.Axes.SetLimits(-0.5, cols - 0.5, -0.5, rows - 0.5);
        var files = Save(plot, directory, name);
        var csvRows = Enumerable.Range(0, rows).Select(r => new[] { spec.Rows[r] }.Concat(Enumerable.Range(0, cols).Select(c => AtomicFiles.CsvNumber(spec.Values[r, c]))));
        AtomicFiles.WriteText(files.Csv, AtomicFiles.Csv(new[] { spec.RowAxis }.Concat(spec.Columns), csvRows));
        AtomicFiles.WriteJson(files.Json, new
        {
            spec.Title, spec.RowAxis, spec.ColumnAxis, spec.Rows, spec.Columns, spec.ValueLabel,
            Values = Enumerable.Range(0, rows).Select(r => Enumerable.Range(0, cols).Select(c => spec.Values[r, c]).ToArray()).ToArray(),
        });
        return files;
    }

    private static ChartFiles Save(Plot plot, string directory, string name)
    {
        var baseName = Path.Combine(directory, name);
        var files = new ChartFiles(baseName + ".png", baseName + ".svg", baseName + ".csv", baseName + ".json");
        AtomicFiles.Write(files.Png, tmp => plot.SavePng(tmp, Width, Height));
        // Skia's SVG backend has no path effects: it drew dashed and dotted lines solid anyway and
        // printed "Unsupported path effect in addPaint." to stderr for each one. The SVG therefore
        // gets solid lines (colours and legend still tell the series apart); the PNG keeps the patterns.
        foreach (var scatter in plot.GetPlottables().OfType<ScottPlot.Plottables.Scatter>()) scatter.LinePattern = LinePattern.Solid;
        AtomicFiles.Write(files.Svg, tmp => plot.SaveSvg(tmp, Width, Height));
        return files;
    }

    private static bool Valid(double v, bool log) => double.IsFinite(v) && (!log || v > 0);

    private static double Transform(double v, bool log) => log ? Math.Log10(v) : v;

    /// <summary>Decade ticks with minor log ticks, labelled 10^k in the original units.</summary>
    private static void LogTicks(IAxis axis)
    {
        axis.TickGenerator = new ScottPlot.TickGenerators.NumericAutomatic
        {
            MinorTickGenerator = new ScottPlot.TickGenerators.LogMinorTickGenerator(),
            IntegerTicksOnly = true,
            LabelFormatter = v => FormatPower(v),
        };
    }

    private static string FormatPower(double exponent)
    {
        var value = Math.Pow(10, exponent);
        return value switch
        {
            >= 1e3 or < 1e-2 => $"1e{exponent:0}",
            _ => value.ToString("0.##", CultureInfo.InvariantCulture),
        };
    }
}
