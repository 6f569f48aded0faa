using System.Globalization;
using System.Text.RegularExpressions;

namespace Generalist.Service.Tests;

/// <summary>The Prometheus text format as a scrape reads it: each family's TYPE and its samples.</summary>
public sealed partial class PrometheusText
{
    public sealed record Sample(string Name, IReadOnlyDictionary<string, string> Labels, double Value);

    public string Text { get; }
    public IReadOnlyDictionary<string, string> Types { get; }
    public IReadOnlyList<Sample> Samples { get; }

    public PrometheusText(string text)
    {
        Text = text;
        var types = new Dictionary<string, string>(StringComparer.Ordinal);
        var samples = new List<Sample>();
        foreach (var line in text.Split('\n', StringSplitOptions.RemoveEmptyEntries))
        {
            if (TypeLine().Match(line) is { Success: true } t) types[t.Groups[1].Value] = t.Groups[2].Value;
            if (line.StartsWith('#')) continue;
            var m = SampleLine().Match(line);
            if (!m.Success) continue;
            var labels = LabelPair().Matches(m.Groups[2].Value).ToDictionary(l => l.Groups[1].Value, l => l.Groups[2].Value, StringComparer.Ordinal);
            var value = double.TryParse(m.Groups[3].Value, NumberStyles.Float, CultureInfo.InvariantCulture, out var v) ? v : double.NaN;
            samples.Add(new Sample(m.Groups[1].Value, labels, value));
        }
        Types = types;
        Samples = samples;
    }

    /// <summary>The samples of one family (a histogram's _bucket, _sum and _count included).</summary>
    public IEnumerable<Sample> Family(string family) =>
        Samples.Where(s => s.Name == family || (Types.GetValueOrDefault(family) == "histogram" && s.Name is var n &&
            (n == family + "_bucket" || n == family + "_sum" || n == family + "_count")));

    /// <summary>The value of one series of a family whose labels include the given ones; null when absent.</summary>
    public double? Value(string name, params (string Key, string Value)[] labels) =>
        Samples.FirstOrDefault(s => s.Name == name && labels.All(l => s.Labels.GetValueOrDefault(l.Key) == l.Value))?.Value;

    [GeneratedRegex(@"^# TYPE (\S+) (\S+)$")]
    private static partial Regex TypeLine();

    [GeneratedRegex(@"^([a-zA-Z_:][a-zA-Z0-9_:]*)(?:\{(.*)\})? (\S+)(?: \d+)?$")]
    private static partial Regex SampleLine();

    [GeneratedRegex(@"([a-zA-Z_][a-zA-Z0-9_]*)=""((?:[^""\\]|\\.)*)""")]
    private static partial Regex LabelPair();
}
