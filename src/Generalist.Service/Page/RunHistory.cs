using System.Text.Json;
using System.Text.Json.Serialization;
using Generalist.Training.Loop;

namespace Generalist.Service.Page;

/// <summary>
/// A run's curves from its metrics.jsonl (every step, written by the trainer's rank 0), thinned to
/// at most <see cref="MaxPoints"/> per line so a page of a long run stays small.
/// </summary>
public sealed record RunHistory(IReadOnlyList<ChartLine> TrainLoss, IReadOnlyList<ChartLine> HeldOutLoss, IReadOnlyList<ChartLine> Throughput, int Lines)
{
    /// <summary>Points per line: more than a 640-pixel-wide chart can show apart.</summary>
    public const int MaxPoints = 600;

    private static readonly JsonSerializerOptions LineOptions = new() { NumberHandling = JsonNumberHandling.AllowNamedFloatingPointLiterals };

    public static RunHistory Read(string metricsPath)
    {
        var steps = new List<MetricsLine>();
        if (File.Exists(metricsPath))
        {
            // The trainer appends while this reads: share the file, and skip a line cut mid-write.
            using var stream = new FileStream(metricsPath, FileMode.Open, FileAccess.Read, FileShare.ReadWrite | FileShare.Delete);
            using var reader = new StreamReader(stream);
            while (reader.ReadLine() is { } line)
            {
                try
                {
                    if (JsonSerializer.Deserialize<MetricsLine>(line, LineOptions) is { } m) steps.Add(m);
                }
                catch (JsonException)
                {
                    // A partial last line.
                }
            }
        }
        var trainLoss = new List<ChartLine> { new("all", Thin(steps.Select(s => ((double)s.Step, s.Loss)).ToList())) };
        trainLoss.AddRange(PerTask(steps, s => s.TaskLoss));
        var heldOut = PerTask(steps, s => s.HeldOutLoss);
        var throughput = new List<ChartLine> { new("tokens/s", Thin(steps.Select(s => ((double)s.Step, s.TokensPerSecond)).ToList())) };
        return new RunHistory(trainLoss, heldOut, throughput, steps.Count);
    }

    private static List<ChartLine> PerTask(List<MetricsLine> steps, Func<MetricsLine, IReadOnlyDictionary<string, double>?> of)
    {
        var tasks = steps.SelectMany(s => of(s)?.Keys ?? []).Distinct().Order(StringComparer.Ordinal);
        return tasks.Select(task => new ChartLine(task, Thin(steps
            .Where(s => of(s)?.ContainsKey(task) == true)
            .Select(s => ((double)s.Step, of(s)![task])).ToList()))).ToList();
    }

    /// <summary>Every k-th point so that at most MaxPoints remain, always with the newest.</summary>
    private static IReadOnlyList<(double X, double Y)> Thin(List<(double X, double Y)> points)
    {
        if (points.Count <= MaxPoints) return points;
        var stride = (points.Count + MaxPoints - 1) / MaxPoints;
        var kept = points.Where((_, i) => i % stride == 0).ToList();
        if (kept[^1] != points[^1]) kept.Add(points[^1]);
        return kept;
    }
}
