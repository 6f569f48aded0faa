using System.Globalization;
using System.Net;
using System.Text;

namespace Generalist.Service.Page;

/// <summary>One line of a chart: its name and (x, y) points in x order.</summary>
public sealed record ChartLine(string Name, IReadOnlyList<(double X, double Y)> Points);

/// <summary>
/// A small hand-written SVG line chart for the run page: no script, no fonts to fetch, one
/// `polyline` per line carrying `data-series` (what the page test reads). ScottPlot renders the
/// evaluation's report charts; here a chart is redrawn on every refresh, so it stays this cheap.
/// </summary>
public static class SvgChart
{
    public const int Width = 640, Height = 300;
    private const int Left = 64, Right = 150, Top = 28, Bottom = 40;
    // Category10, the palette of the evaluation's ScottPlot charts, so a task keeps its color.
    private static readonly string[] Palette = ["#1f77b4", "#ff7f0e", "#2ca02c", "#d62728", "#9467bd", "#8c564b", "#e377c2", "#7f7f7f", "#bcbd22", "#17becf"];

    public static string Line(string id, string title, string xLabel, string yLabel, IReadOnlyList<ChartLine> lines)
    {
        var points = lines.SelectMany(l => l.Points).Where(p => double.IsFinite(p.X) && double.IsFinite(p.Y)).ToList();
        var svg = new StringBuilder();
        svg.Append(CultureInfo.InvariantCulture, $"<svg xmlns=\"http://www.w3.org/2000/svg\" id=\"{id}\" width=\"{Width}\" height=\"{Height}\" viewBox=\"0 0 {Width} {Height}\" role=\"img\">");
        svg.Append(CultureInfo.InvariantCulture, $"<title>{Encode(title)}</title><rect width=\"{Width}\" height=\"{Height}\" fill=\"#fff\"/>");
        svg.Append(CultureInfo.InvariantCulture, $"<text x=\"{Left}\" y=\"18\" font-size=\"14\" font-weight=\"bold\">{Encode(title)}</text>");
        if (points.Count == 0)
        {
            svg.Append(CultureInfo.InvariantCulture, $"<text x=\"{Left}\" y=\"{Height / 2}\" font-size=\"13\" fill=\"#666\">no data yet</text></svg>");
            return svg.ToString();
        }
        var (x0, x1) = Range(points.Select(p => p.X));
        var (y0, y1) = Range(points.Select(p => p.Y));
        double PlotX(double x) => Left + (x - x0) / (x1 - x0) * (Width - Left - Right);
        double PlotY(double y) => Height - Bottom - (y - y0) / (y1 - y0) * (Height - Top - Bottom);

        // Axes with their end values: enough to read a level and a trend.
        svg.Append(CultureInfo.InvariantCulture, $"<g stroke=\"#999\" fill=\"none\"><rect x=\"{Left}\" y=\"{Top}\" width=\"{Width - Left - Right}\" height=\"{Height - Top - Bottom}\"/></g>");
        svg.Append("<g font-size=\"11\" fill=\"#333\">");
        svg.Append(CultureInfo.InvariantCulture, $"<text x=\"{Left - 4}\" y=\"{Top + 4}\" text-anchor=\"end\">{Number(y1)}</text>");
        svg.Append(CultureInfo.InvariantCulture, $"<text x=\"{Left - 4}\" y=\"{Height - Bottom}\" text-anchor=\"end\">{Number(y0)}</text>");
        svg.Append(CultureInfo.InvariantCulture, $"<text x=\"{Left}\" y=\"{Height - Bottom + 14}\">{Number(x0)}</text>");
        svg.Append(CultureInfo.InvariantCulture, $"<text x=\"{Width - Right}\" y=\"{Height - Bottom + 14}\" text-anchor=\"end\">{Number(x1)}</text>");
        svg.Append(CultureInfo.InvariantCulture, $"<text x=\"{(Left + Width - Right) / 2}\" y=\"{Height - 8}\" text-anchor=\"middle\">{Encode(xLabel)}</text>");
        svg.Append(CultureInfo.InvariantCulture, $"<text transform=\"translate(14 {(Top + Height - Bottom) / 2}) rotate(-90)\" text-anchor=\"middle\">{Encode(yLabel)}</text>");
        svg.Append("</g>");

        for (var i = 0; i < lines.Count; i++)
        {
            var color = Palette[i % Palette.Length];
            var coordinates = string.Join(' ', lines[i].Points.Where(p => double.IsFinite(p.X) && double.IsFinite(p.Y))
                .Select(p => string.Create(CultureInfo.InvariantCulture, $"{PlotX(p.X):0.#},{PlotY(p.Y):0.#}")));
            svg.Append(CultureInfo.InvariantCulture, $"<polyline data-series=\"{Encode(lines[i].Name)}\" fill=\"none\" stroke=\"{color}\" stroke-width=\"2\" points=\"{coordinates}\"/>");
            var legendY = Top + 14 + 16 * i;
            svg.Append(CultureInfo.InvariantCulture, $"<rect x=\"{Width - Right + 10}\" y=\"{legendY - 9}\" width=\"12\" height=\"4\" fill=\"{color}\"/>");
            svg.Append(CultureInfo.InvariantCulture, $"<text x=\"{Width - Right + 26}\" y=\"{legendY}\" font-size=\"12\">{Encode(lines[i].Name)}</text>");
        }
        svg.Append("</svg>");
        return svg.ToString();
    }

    /// <summary>The data's range; a flat line gets a band around it so it is drawn mid-height.</summary>
    private static (double Low, double High) Range(IEnumerable<double> values)
    {
        var list = values.ToList();
        var (low, high) = (list.Min(), list.Max());
        if (high > low) return (low, high);
        var pad = Math.Abs(low) > 0 ? Math.Abs(low) * 0.05 : 1;
        return (low - pad, high + pad);
    }

    private static string Number(double v) => v.ToString(Math.Abs(v) is >= 1e4 or (< 1e-3 and > 0) ? "0.##e0" : "0.####", CultureInfo.InvariantCulture);

    private static string Encode(string text) => WebUtility.HtmlEncode(text);
}
