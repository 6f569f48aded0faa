using System.Globalization;
using Generalist.Evaluation.Reporting;

namespace Generalist.Evaluation.InContext;

/// <summary>The MovieLens RMSE-vs-ratings-in-context curve as a table and a plot.</summary>
public static class RatingCurveWriter
{
    public static void Write(MarkdownDocument md, RatingCurveReport curve, string directory, string plots, string stem)
    {
        var labels = curve.Buckets.Select(b => b.Label).ToList();
        // x = the bucket's lower end (0, 1, 2, 4, ...): one point per bucket, in order.
        var xs = curve.Buckets.Select(b => (double)b.Low).ToArray();
        var chart = Charts.Line(plots, $"rmse_vs_context_{stem}", new LineChartSpec($"{stem}: RMSE vs the user's ratings in context",
            "ratings of the user in the model's window (bucket start)", "RMSE (stars)",
            curve.Series.Select(s => new ChartSeries(s.Name.Replace('_', ' '), xs, s.Rmse,
                Low: s.Name == "model" ? s.Interval.Select(i => i?.Low ?? double.NaN).ToArray() : null,
                High: s.Name == "model" ? s.Interval.Select(i => i?.High ?? double.NaN).ToArray() : null)).ToList()));
        md.Paragraph($"Every rating of {curve.Users} held-out users, by how many of the user's ratings were in the model's window before it (windows start on " +
                     "rating boundaries, as in training). Baselines see the same ratings: the user mean is their mean, the user+item bias fits the user's " +
                     "bias on them (item biases from the training users). 95% bootstrap intervals over users.");
        md.Chart("RMSE vs ratings in context, model and bias baselines", chart, directory);
        md.Table(["ratings in context", "queries", .. curve.Series.Select(s => s.Name)], labels.Select((l, b) => (IReadOnlyList<string>)
            [l, curve.Count[b].ToString(CultureInfo.InvariantCulture), .. curve.Series.Select(s => s.Interval[b] is { } i
                ? $"{MarkdownDocument.Number(s.Rmse[b])} [{MarkdownDocument.Number(i.Low)}, {MarkdownDocument.Number(i.High)}]" : MarkdownDocument.Number(s.Rmse[b]))]));
    }
}
