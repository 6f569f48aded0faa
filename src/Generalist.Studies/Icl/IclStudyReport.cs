using Generalist.Evaluation.InContext;
using Generalist.Evaluation.Reporting;

namespace Generalist.Studies;

/// <summary>report.md (with plots), icl_study.json and the CSVs of an in-context learning study.</summary>
public static class IclStudyReport
{
    public static (string Report, IReadOnlyList<string> Artifacts) Write(string directory, StudyConfig config, string configPath, IclCheckpointResult result, SubRunResult? run)
    {
        var plots = Path.Combine(directory, "plots");
        var md = new MarkdownDocument().Heading(1, $"In-context learning study: {config.Name}");
        md.Paragraph($"Checkpoint `{result.Checkpoint}` (run `{result.Run}`, preset `{result.Preset}`, {result.Steps} steps, trained on {string.Join(", ", result.Tasks)}); " +
                     (run is null ? "taken as given (icl.checkpoint). " : "trained by this study as sub-run `icl` (runs/icl). ") +
                     $"Reproduce: `generalist study icl --config {Path.GetFileName(configPath)}`.");
        if (result.Regression is { } task)
            md.Paragraph(FormattableString.Invariant($"Task: {task.Function}, d = {task.Dimension}, {task.Pairs} pairs, noise {task.NoiseStd} x f's standard deviation, x ~ N(0, {task.InputScale}^2 I)") +
                         (task.Curriculum is { } c ? FormattableString.Invariant($", curriculum from d = {c.StartDimension} and {c.StartPairs} pairs every {c.EverySteps} steps") : "") + ".");
        if (result.Behaviour is { } behaviour)
        {
            var main = behaviour.Conditions[0];
            var k2d = Math.Min(2 * behaviour.Dimension, main.MaxK);
            string At(string name, int k) => MarkdownDocument.Number(main.Algorithms.Single(a => a.Name == name).Mse[k], "0.#####");
            var ci = main.Model.Interval[k2d];
            md.Heading(2, "Summary");
            md.Bullets(
            [
                FormattableString.Invariant($"At k = 2d = {k2d}: model MSE {MarkdownDocument.Number(main.Model.Mse[k2d], "0.#####")}") +
                    (ci is null ? "" : $" [{MarkdownDocument.Number(ci.Low, "0.#####")}, {MarkdownDocument.Number(ci.High, "0.#####")}]") +
                    $", least squares {At(IclAlgorithms.LeastSquares, k2d)}, zero predictor {At(IclAlgorithms.Zero, k2d)}, mean of the targets {At(IclAlgorithms.Mean, k2d)}.",
                "k >= 1 where the model's interval lies below the mean baseline: " +
                    string.Join(", ", Enumerable.Range(1, main.MaxK).Where(k => main.Model.Interval[k] is { } i && i.High < main.Algorithms.Single(a => a.Name == IclAlgorithms.Mean).Mse[k])) + ".",
                "Closest algorithm (agreement) per k: " + string.Join(", ", Enumerable.Range(0, main.MaxK + 1).Select(k =>
                    $"{k}: {main.Agreement.Where(a => double.IsFinite(a.MeanSquaredDifference[k])).OrderBy(a => a.MeanSquaredDifference[k]).Select(a => a.Algorithm).FirstOrDefault() ?? "-"}")) + ".",
            ]);
            IclReportWriter.Write(md, behaviour, directory, plots);
        }
        if (result.Probes is { } probes) ProbeReportWriter.Write(md, probes, directory, plots);
        if (result.MovieLensCurve is { } curve)
        {
            md.Heading(2, "MovieLens in context");
            if (result.MovieLensLastRating is { } last && result.MovieLensMetrics is { } m)
                md.Paragraph("Last rating of each held-out user: model RMSE " + MarkdownDocument.Number(m.GetValueOrDefault("rmse", double.NaN)) + "; " +
                             string.Join(", ", last.Select(b => $"{b.Name.Replace('_', ' ')} {MarkdownDocument.Number(b.Rmse)}")) + ".");
            RatingCurveWriter.Write(md, curve, directory, plots, "movielens");
        }
        if (result.Behaviour is null && result.MovieLensCurve is null)
            md.Paragraph("The checkpoint trained neither icl-regression nor movielens: there is nothing in-context to analyse.");
        AtomicFiles.WriteJson(Path.Combine(directory, "icl_study.json"), result);
        var report = Path.Combine(directory, "report.md");
        AtomicFiles.WriteText(report, md.ToString());
        var artifacts = Directory.EnumerateFiles(directory, "*", SearchOption.AllDirectories)
            .Where(f => !f.Contains($"{Path.DirectorySeparatorChar}runs{Path.DirectorySeparatorChar}", StringComparison.Ordinal))
            .OrderBy(f => f, StringComparer.Ordinal).ToList();
        return (report, artifacts);
    }
}
