using Generalist.Evaluation.Reporting;
using Generalist.Evaluation.Scoring;
using Generalist.Evaluation.Statistics;
using Generalist.RunFormat;

namespace Generalist.Evaluation;

/// <summary>evaluation-SUITE.json and evaluation-SUITE.md (with the in-context plots) beside the checkpoint's weights.</summary>
public static class EvaluationReport
{
    public static void Write(EvaluationResult result, EvaluationRequest request, RunConfig config,
        IReadOnlyDictionary<string, (ErrorCurve Model, IReadOnlyList<ErrorCurve> Baselines)> curves,
        IReadOnlyDictionary<string, IReadOnlyList<BaselineRmse>> ratingBaselines,
        IReadOnlyList<string> captionExamples,
        IReadOnlyDictionary<string, IReadOnlyList<FilmstripFrame>>? filmstrips = null,
        IReadOnlyDictionary<string, InContext.IclReport>? icl = null,
        IReadOnlyDictionary<string, InContext.RatingCurveReport>? ratingCurves = null)
    {
        var dir = request.CheckpointPath;
        var plots = EvaluationFiles.Plots(dir, result.Suite);
        var md = new MarkdownDocument().Heading(1, $"Evaluation: {Path.GetFileName(Path.GetFullPath(dir).TrimEnd('/'))}");
        var summary = result.Control ?? throw new ArgumentException("the result has no control summary");
        var episodes = summary.EpisodesPerTask;
        md.Paragraph($"Suite `{result.Suite}`; run `{config.Name}` (preset `{config.Preset}`, {config.Steps} steps, trained on {string.Join(", ", config.Tasks.Select(t => t.Name))}). " +
                     $"Control: {episodes} episodes per task on seeds {request.Seed}..{request.Seed + episodes - 1} (disjoint from the run's data seeds), " +
                     $"{summary.Decoding} actions, prompted with the end of one held-out expert demonstration; " +
                     "expert and random returns measured live on the same seeds.");
        if (summary.CapNote is { } cap) md.Paragraph($"**Episodes capped**: {cap}; use the `control` or `all` suite for more.");
        var control = result.Tasks.Where(t => t.Family == "control").ToList();
        if (control.Count > 0)
        {
            WriteControl(md, control, result, summary);
            md.Chart("Normalized score per control task (mean over episodes, 95% bootstrap interval; 0 = random, 100 = expert)", ScoreChart(plots, control), dir);
            foreach (var (task, frames) in filmstrips ?? new Dictionary<string, IReadOnlyList<FilmstripFrame>>())
            {
                var png = Filmstrip.Write(plots, $"filmstrip_{task}", frames);
                md.Paragraph($"{task}: the model's first evaluation episode, frame by frame (what it saw, then the action it took; first {frames.Count} steps):");
                md.Paragraph($"![{task} filmstrip]({Path.GetRelativePath(dir, png).Replace('\\', '/')})");
            }
        }
        var language = result.Tasks.Where(t => t.Family == "language").ToList();
        if (language.Count > 0)
            md.Heading(2, "Language").Table(["task", "held-out loss (nats/token)", "bits per byte", "sequences"],
                language.Select(t => (IReadOnlyList<string>)[t.Task, Num(t, "loss"), Num(t, "bits_per_byte"), Num(t, "sequences", "0")]));
        var vision = result.Tasks.Where(t => t.Family == "vision-language").ToList();
        if (vision.Count > 0)
        {
            md.Heading(2, "Vision-language").Table(["task", "caption exact match", "token accuracy (teacher-forced)", "held-out loss", "captions"],
                vision.Select(t => (IReadOnlyList<string>)[t.Task, Num(t, "exact_match", "0.###"), Num(t, "token_accuracy", "0.###"), Num(t, "loss"), Num(t, "captions", "0")]));
            if (captionExamples.Count > 0) md.Paragraph("Greedy captions:").Bullets(captionExamples);
        }
        foreach (var (task, (model, baselines)) in curves)
        {
            md.Heading(2, $"In-context regression: {task}");
            var ks = Enumerable.Range(0, model.MeanSquaredError.Length).Select(k => (double)k).ToArray();
            // Noiseless targets let least squares reach ~1e-16 once k >= d; drawn as is, the y-axis
            // spans 17 decades and the model's line is flat. Values below a floor three decades
            // under the model's smallest error are drawn at the floor (the table keeps them exact).
            var floor = model.MeanSquaredError.Where(v => v > 0 && double.IsFinite(v)).DefaultIfEmpty(1).Min() / 1000;
            double[] Floored(double[] values) => values.Select(v => double.IsFinite(v) ? Math.Max(v, floor) : v).ToArray();
            var chart = Charts.Line(plots, $"icl_mse_vs_k_{task}", new LineChartSpec($"{task}: squared error vs in-context examples (floor {floor:0.#e0})", "in-context examples k", "mean squared error",
                new[] { model }.Concat(baselines).Select(c => new ChartSeries(c.Name.Replace('_', ' '), ks, Floored(c.MeanSquaredError))).ToList(), LogY: true));
            md.Chart($"{task}: MSE vs k, model and baselines on the same sequences", chart, dir);
            md.Table(["k", "model", .. baselines.Select(b => b.Name.Replace('_', ' '))], ks.Select(k => (IReadOnlyList<string>)
                [((int)k).ToString(), MarkdownDocument.Number(model.MeanSquaredError[(int)k], "0.#####"), .. baselines.Select(b => MarkdownDocument.Number(b.MeanSquaredError[(int)k], "0.#####"))]));
        }
        // The full in-context analysis (every algorithm, agreement, shifted prompts) with its own JSON and CSV beside this report.
        foreach (var (_, report) in icl ?? new Dictionary<string, InContext.IclReport>())
            InContext.IclReportWriter.Write(md, report, dir, plots, $"icl-{result.Suite}");
        foreach (var (task, baselines) in ratingBaselines)
        {
            var t = result.Tasks.First(s => s.Task == task);
            md.Heading(2, $"MovieLens in context: {task}");
            md.Table(["predictor", "RMSE (stars)"], new[] { (IReadOnlyList<string>)["model (expected rating)", Num(t, "rmse")] }
                .Concat(baselines.Select(b => (IReadOnlyList<string>)[b.Name.Replace('_', ' '), MarkdownDocument.Number(b.Rmse)])));
            md.Paragraph($"Last rating of {Num(t, "users", "0")} held-out users; baselines fitted on the training users and the held-out users' earlier ratings. " +
                         "Items are the movie's (genres, year) signature, as the episodes carry no movie id.");
            if (ratingCurves?.GetValueOrDefault(task) is { } curve) InContext.RatingCurveWriter.Write(md, curve, dir, plots, $"{task}-{result.Suite}");
            md.Paragraph($"For context only — published figures on a different data set and split ({PublishedMovieLensFigures.Source}):");
            md.Table(["predictor (MovieLens-1M, published)", "RMSE"], PublishedMovieLensFigures.Rows.Select(r => (IReadOnlyList<string>)[r.Name, r.Rmse]));
        }
        md.Heading(2, "Every metric").Table(["task", "family", "metric", "value"],
            result.Tasks.SelectMany(t => t.Metrics.OrderBy(kv => kv.Key, StringComparer.Ordinal).Select(kv => (IReadOnlyList<string>)[t.Task, t.Family, kv.Key, MarkdownDocument.Number(kv.Value, "0.######")])));
        AtomicFiles.WriteJson(result.JsonPath, new
        {
            Result = result,
            Request = request,
            Run = new { config.Name, config.Preset, config.Steps, Tasks = config.Tasks.Select(t => t.Name) },
            Curves = curves.ToDictionary(kv => kv.Key, kv => new { Model = kv.Value.Model, kv.Value.Baselines }),
            RatingBaselines = ratingBaselines,
            RatingCurves = ratingCurves,
            PublishedMovieLens = new { PublishedMovieLensFigures.Source, Rows = PublishedMovieLensFigures.Rows.Select(r => new { r.Name, r.Rmse }) },
        });
        AtomicFiles.WriteText(result.MarkdownPath, md.ToString());
    }

    private static void WriteControl(MarkdownDocument md, IReadOnlyList<TaskScore> control, EvaluationResult result, ControlSummary summary)
    {
        md.Heading(2, "Control");
        md.Table(["task", "model return", "expert return", "random return", "normalized score [95% CI]", "expert agreement", "action error", "unseen-bin states", "held-out loss"],
            control.Select(t => (IReadOnlyList<string>)
            [
                t.Task, Num(t, "return", "0.##") + " ± " + Num(t, "return_std", "0.##"), Num(t, "expert_return", "0.##"), Num(t, "random_return", "0.##"),
                MarkdownDocument.Number(t.NormalizedScore, "0.#") + (t.Metrics.ContainsKey("normalized_score_ci_low") ? $" [{Num(t, "normalized_score_ci_low", "0.#")}, {Num(t, "normalized_score_ci_high", "0.#")}]" : ""),
                Num(t, "expert_agreement", "0.###"), Num(t, "action_abs_error", "0.###"), Num(t, "unseen_bin_states", "0.###"), Num(t, "loss"),
            ]));
        md.Paragraph($"Normalized score 100·(R − R_random)/(R_expert − R_random) per episode; a task's score is the mean over its episodes. " +
                     $"Across {summary.Tasks} task(s): mean {MarkdownDocument.Number(result.MeanNormalizedScore, "0.#")} {Ci(summary.MeanInterval)}, " +
                     $"IQM {MarkdownDocument.Number(summary.InterquartileMean, "0.#")} {Ci(summary.InterquartileMeanInterval)}; " +
                     $"{result.TasksAtOrAbove50} task(s) at or above 50, {result.TasksAtOrAbove80} at or above 80. " +
                     $"95% intervals: percentile bootstrap over episodes ({summary.BootstrapSamples} resamples, seed {summary.BootstrapSeed}; stratified by task across tasks), " +
                     "with the expert and random references held fixed. IQM: the mean of the middle 50% of all episode scores (Agarwal et al. 2021).");
        md.Paragraph("Diagnostics on the model's own rollouts: *expert agreement* is the fraction of visited states where the model's action equals the scripted expert's " +
                     $"action on the same state (continuous actions: every dimension within {ControlDiagnostics.Tolerance} action units); *action error* is the mean " +
                     "|model − expert| per dimension (continuous actions); *unseen-bin states* is the fraction of visited states with a continuous observation value whose bin, " +
                     "in that dimension, never occurs in the task's training episodes (trained tasks with continuous observations only). " +
                     "Sokoban's expert replays the level's solution by step, so its agreement after the model leaves the solution path compares against the solution, not a replanned move.");
    }

    private static ChartFiles ScoreChart(string plots, IReadOnlyList<TaskScore> control)
    {
        double Metric(TaskScore t, string name) => t.Metrics.TryGetValue(name, out var v) ? v : double.NaN;
        var series = new BarSeries("model", control.Select(t => t.NormalizedScore ?? double.NaN).ToArray(),
            control.Select(t => Metric(t, "normalized_score_ci_low")).ToArray(), control.Select(t => Metric(t, "normalized_score_ci_high")).ToArray());
        return BarChart.Write(plots, "control_scores", new BarChartSpec("Control: expert-normalized score per task", "task", "normalized score",
            control.Select(t => t.Task).ToList(), [series], [new ReferenceLine("expert", 100), new ReferenceLine("random", 0)]));
    }

    private static string Ci(Interval? interval) =>
        interval is { } i ? $"[{MarkdownDocument.Number(i.Low, "0.#")}, {MarkdownDocument.Number(i.High, "0.#")}]" : "(no interval: fewer than 2 episodes)";

    private static string Num(TaskScore t, string metric, string format = "0.####") =>
        t.Metrics.TryGetValue(metric, out var v) ? MarkdownDocument.Number(v, format) : "–";
}
