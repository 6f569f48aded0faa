using System.Globalization;
using System.Text;
using System.Text.Json;
using Generalist.Evaluation.Reporting;
using Generalist.Service.Api.V1;

namespace Generalist.Cli.Commands;

/// <summary>
/// The demo's report: what the reader is looking at in plain words, a one-table summary of what the
/// agent does (from evaluation.json), the training curves per task, the evaluation's own plots
/// (score per control task, the catch filmstrip), and a pointer to the full evaluation and to a
/// longer recipe. The full per-metric listing stays in evaluation.md/json, linked, not inlined.
/// </summary>
internal static class DemoReport
{
    public static string Write(string root, Run run, string checkpointDirectory)
    {
        var runDirectory = Directory.GetParent(Directory.GetParent(checkpointDirectory)!.FullName)!.FullName;
        var (perTask, total) = ReadLosses(Path.Combine(runDirectory, "metrics.jsonl"));

        var reportDirectory = Path.Combine(root, "report");
        Directory.CreateDirectory(reportDirectory);
        var series = new List<ChartSeries> { new("all tasks", [.. total.X], [.. total.Y], Markers: false) };
        series.AddRange(perTask.Select(p => new ChartSeries(p.Key, [.. p.Value.X], [.. p.Value.Y], Markers: false)));
        var chart = Charts.Line(reportDirectory, "training-loss",
            new LineChartSpec($"Training loss per task ({run.Name})", "step", "loss (nats per loss token)", series));

        string Rel(string p) => Path.GetRelativePath(root, p).Replace('\\', '/');
        // The demo evaluates the default suite (DemoCommand).
        var evaluationMd = Generalist.Evaluation.EvaluationFiles.Markdown(checkpointDirectory, "default");
        var evaluationJson = Generalist.Evaluation.EvaluationFiles.Json(checkpointDirectory, "default");
        var plots = Generalist.Evaluation.EvaluationFiles.Plots(checkpointDirectory, "default");
        var md = new StringBuilder();
        md.AppendLine($"# Generalist demo: {run.Name}").AppendLine();
        md.AppendLine($"One small transformer (the `tiny` preset, about 1M parameters in its blocks) was trained for {run.Step} steps, through the service's gRPC API, " +
                      $"on {string.Join(", ", perTask.Keys)} at once: every task is turned into one token sequence format, and one model learns them all. " +
                      "It was then evaluated on held-out data: the control tasks by letting the model play the game itself " +
                      "(its actions change what it sees next), captions by letting it write them word by word, text and in-context regression by held-out loss.").AppendLine();
        AppendSummary(md, evaluationJson);
        md.AppendLine("## Training").AppendLine();
        md.AppendLine("| task | first loss | last loss |").AppendLine("|---|---|---|");
        foreach (var (task, s) in perTask)
            md.AppendLine(CultureInfo.InvariantCulture, $"| {task} | {s.Y[0]:0.000} | {s.Y[^1]:0.000} |");
        md.AppendLine().AppendLine($"![training loss]({Rel(chart.Png)}) ([SVG]({Rel(chart.Svg)}), [CSV]({Rel(chart.Csv)}))").AppendLine();
        var scores = Path.Combine(plots, "control_scores.png");
        if (File.Exists(scores))
            md.AppendLine("## What the agent does").AppendLine().AppendLine($"![normalized score per control task]({Rel(scores)})").AppendLine()
              .AppendLine("Each bar is the mean over the evaluation episodes of 100·(R − R_random)/(R_expert − R_random), with its 95% bootstrap interval: " +
                          "0 plays like a random policy, 100 like the scripted expert.").AppendLine();
        foreach (var strip in (Directory.Exists(plots) ? Directory.GetFiles(plots, "filmstrip_*.png") : []).Order(StringComparer.Ordinal))
        {
            var task = Path.GetFileNameWithoutExtension(strip)["filmstrip_".Length..];
            md.AppendLine($"{task}, the model's first evaluation episode, frame by frame (what it saw; `a=` is the action it then chose):").AppendLine()
              .AppendLine($"![{task} filmstrip]({Rel(strip)})").AppendLine();
        }
        md.AppendLine("## Where to go next").AppendLine();
        md.AppendLine($"- Every metric, intervals and diagnostics: [{Rel(evaluationMd)}]({Rel(evaluationMd)}) and `evaluation-default.json` beside it.");
        md.AppendLine($"- The run: `{Rel(runDirectory)}` (metrics.jsonl per step, checkpoints).");
        md.AppendLine("- A longer recipe trains one generalist on all eight control tasks plus text, mnist and in-context regression: " +
                      "`generalist train --config recipes/control-cpu.json` (README: \"what 60 minutes on 2 CPU cores gives\").");
        var path = Path.Combine(root, "report.md");
        AtomicFiles.WriteText(path, md.ToString());
        return path;
    }

    /// <summary>One row per task: the number a reader judges it by, in words.</summary>
    private static void AppendSummary(StringBuilder md, string evaluationJson)
    {
        if (!File.Exists(evaluationJson)) return;
        using var doc = JsonDocument.Parse(File.ReadAllText(evaluationJson));
        if (!doc.RootElement.TryGetProperty("result", out var result) || !result.TryGetProperty("tasks", out var tasks)) return;
        md.AppendLine("## Summary").AppendLine();
        md.AppendLine("| task | what was measured | result |").AppendLine("|---|---|---|");
        foreach (var t in tasks.EnumerateArray())
        {
            var name = t.GetProperty("task").GetString();
            var m = t.GetProperty("metrics");
            double? Get(string key) => m.TryGetProperty(key, out var v) && v.ValueKind == JsonValueKind.Number ? v.GetDouble() : null;
            string F(double? v, string format) => v is { } x && double.IsFinite(x) ? x.ToString(format, CultureInfo.InvariantCulture) : "–";
            var (what, value) = t.GetProperty("family").GetString() switch
            {
                "control" => ($"the model plays {F(Get("episodes"), "0")} episodes itself",
                    $"normalized score **{F(Get("normalized_score"), "0.#")}** [95% CI {F(Get("normalized_score_ci_low"), "0.#")}, {F(Get("normalized_score_ci_high"), "0.#")}]; " +
                    $"return {F(Get("return"), "0.##")} (expert {F(Get("expert_return"), "0.##")}, random {F(Get("random_return"), "0.##")}); " +
                    $"its action equals the expert's on {F(Get("expert_agreement") * 100, "0")}% of the states it visits"),
                "vision-language" => ($"greedy captions of {F(Get("captions"), "0")} held-out images",
                    $"exact match **{F(Get("exact_match") * 100, "0")}%** (token accuracy {F(Get("token_accuracy") * 100, "0")}%)"),
                "language" => ("held-out text", $"{F(Get("bits_per_byte"), "0.###")} bits per byte (loss {F(Get("loss"), "0.###")} nats/token)"),
                _ when Get("mse") is not null => ("held-out linear functions, fitted from the examples in context",
                    $"MSE at the last k: {F(Get("mse"), "0.####")} (least squares {F(LastK(m, "least_squares_mse_k"), "0.####")}, 3-NN {F(LastK(m, "3_nearest_neighbours_mse_k"), "0.####")}, mean of the k targets {F(LastK(m, "mean_mse_k"), "0.####")})"),
                _ => ("held-out loss", F(Get("loss"), "0.###")),
            };
            md.AppendLine($"| {name} | {what} | {value} |");
        }
        md.AppendLine();
    }

    /// <summary>The metric prefix + k with the largest k present (the full context).</summary>
    private static double? LastK(JsonElement metrics, string prefix)
    {
        double? last = null;
        var best = -1;
        foreach (var p in metrics.EnumerateObject())
            if (p.Name.StartsWith(prefix, StringComparison.Ordinal) && int.TryParse(p.Name[prefix.Length..], out var k) && k > best && p.Value.ValueKind == JsonValueKind.Number)
                (best, last) = (k, p.Value.GetDouble());
        return last;
    }

    private static (SortedDictionary<string, (List<double> X, List<double> Y)> PerTask, (List<double> X, List<double> Y) Total) ReadLosses(string metrics)
    {
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
        return (perTask, total);
    }
}
