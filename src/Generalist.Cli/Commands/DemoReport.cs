using System.Text;
using System.Text.Json;
using Generalist.Evaluation.Reporting;
using Generalist.Service.Api.V1;

namespace Generalist.Cli.Commands;

/// <summary>The demo's report: training curves per task from metrics.jsonl, linked with the evaluation.</summary>
internal static class DemoReport
{
    public static string Write(string root, Run run, string checkpointDirectory)
    {
        var runDirectory = Directory.GetParent(Directory.GetParent(checkpointDirectory)!.FullName)!.FullName;
        var metrics = Path.Combine(runDirectory, "metrics.jsonl");
        var perTask = new SortedDictionary<string, (List<double> X, List<double> Y)>(StringComparer.Ordinal);
        var total = (X: new List<double>(), Y: new List<double>());
        foreach (var line in File.ReadLines(metrics))
        {
            using var doc = JsonDocument.Parse(line);
            var r = doc.RootElement;
            if (!r.TryGetProperty("step", out var stepElement) || !r.TryGetProperty("loss", out var lossElement)) continue;
            var step = stepElement.GetDouble();
            total.X.Add(step);
            total.Y.Add(lossElement.GetDouble());
            if (!r.TryGetProperty("task_loss", out var tasks)) continue;
            foreach (var t in tasks.EnumerateObject())
            {
                if (t.Value.ValueKind != JsonValueKind.Number) continue;
                if (!perTask.TryGetValue(t.Name, out var points)) perTask[t.Name] = points = ([], []);
                points.X.Add(step);
                points.Y.Add(t.Value.GetDouble());
            }
        }

        var reportDirectory = Path.Combine(root, "report");
        Directory.CreateDirectory(reportDirectory);
        var series = new List<ChartSeries> { new("all tasks", [.. total.X], [.. total.Y], Markers: false) };
        series.AddRange(perTask.Select(p => new ChartSeries(p.Key, [.. p.Value.X], [.. p.Value.Y], Markers: false)));
        var chart = Charts.Line(reportDirectory, "training-loss",
            new LineChartSpec($"Training loss per task ({run.Name})", "step", "loss (nats per loss token)", series));

        var evaluationMd = Path.Combine(checkpointDirectory, "evaluation.md");
        var md = new StringBuilder();
        md.AppendLine($"# Generalist demo: {run.Name}").AppendLine();
        md.AppendLine($"A `tiny` generalist trained through the service's gRPC API for {run.Step} steps on "
            + $"{string.Join(", ", perTask.Keys)}, then evaluated on the `default` suite.").AppendLine();
        md.AppendLine("| task | first loss | last loss |").AppendLine("|---|---|---|");
        foreach (var (task, s) in perTask)
            md.AppendLine($"| {task} | {s.Y[0]:0.000} | {s.Y[^1]:0.000} |");
        md.AppendLine().AppendLine($"![training loss]({Path.GetRelativePath(root, chart.Png)}) ([SVG]({Path.GetRelativePath(root, chart.Svg)}), [CSV]({Path.GetRelativePath(root, chart.Csv)}))").AppendLine();
        md.AppendLine($"- run directory: `{Path.GetRelativePath(root, runDirectory)}` (metrics.jsonl, checkpoints)");
        md.AppendLine($"- evaluation: [{Path.GetRelativePath(root, evaluationMd)}]({Path.GetRelativePath(root, evaluationMd)}) and `evaluation.json` beside it");
        if (File.Exists(evaluationMd))
        {
            md.AppendLine().AppendLine("## Evaluation").AppendLine();
            foreach (var line in File.ReadLines(evaluationMd).Skip(1))
                md.AppendLine(line.Replace("](", $"]({Path.GetRelativePath(root, checkpointDirectory)}/", StringComparison.Ordinal));
        }
        var path = Path.Combine(root, "report.md");
        var temp = path + ".tmp";
        File.WriteAllText(temp, md.ToString());
        File.Move(temp, path, overwrite: true);
        return path;
    }
}
