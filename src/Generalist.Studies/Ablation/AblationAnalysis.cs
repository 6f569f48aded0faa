using Generalist.Evaluation;
using Generalist.Evaluation.Statistics;

namespace Generalist.Studies.Ablation;

/// <summary>Where an interval comes from (said in the report beside every interval).</summary>
public static class IntervalSources
{
    /// <summary>The evaluator's own per-task (or aggregate) bootstrap interval over episodes; over several seeds combined as described in <see cref="AblationAnalysis.Combine"/>.</summary>
    public const string Evaluation = "evaluation";
    /// <summary>Percentile bootstrap of the mean over the seeds' values (the study's bootstrap settings).</summary>
    public const string Seeds = "seeds";
    /// <summary>No interval: one seed and no interval in the evaluation result.</summary>
    public const string None = "none";
}

/// <summary>One (variant, seed, task) measurement, as evaluated.</summary>
public sealed record AblationSeedRow(string Variant, long Seed, string Run, string Task, string Family, double? Score, Interval? ScoreInterval, double? Loss);

/// <summary>
/// One task under one variant over its seeds. Score is the mean normalized score over seeds with
/// ScoreInterval from IntervalSource; SeedInterval is the bootstrap over seeds (at least 2 seeds),
/// given whatever the source so the seed-to-seed spread is always visible.
/// </summary>
public sealed record AblationTaskRow(
    string Variant, string Task, string Family, int Seeds,
    double? Score, Interval? ScoreInterval, string IntervalSource, IReadOnlyList<double> SeedScores, Interval? SeedInterval,
    double? Loss, Interval? LossInterval, IReadOnlyList<double> SeedLosses);

/// <summary>
/// One variant over all control tasks: the mean normalized score (per seed the mean over control
/// tasks, then the mean over seeds), the IQM of episode scores where the evaluation gives one (mean
/// over seeds), the mean held-out loss over every task, and the difference from the reference
/// variant (the first one) in mean score.
/// </summary>
public sealed record AblationSummaryRow(
    string Variant, int Seeds, int ControlTasks,
    double? MeanScore, Interval? MeanInterval, string MeanIntervalSource,
    double? Iqm, Interval? IqmInterval, string IqmIntervalSource,
    double? MeanLoss, double? DifferenceFromReference);

public sealed record AblationAnalysisResult(
    IReadOnlyList<string> Tasks, IReadOnlyList<AblationSeedRow> SeedRows, IReadOnlyList<AblationTaskRow> TaskRows, IReadOnlyList<AblationSummaryRow> Summary,
    string Reference, BootstrapOptions Bootstrap);

/// <summary>
/// Aggregates the sub-runs of an ablation. Intervals for a normalized score, in this order:
/// (1) the evaluation result's own interval (control evaluations carry a percentile bootstrap over
/// episodes per task, metrics normalized_score_ci_low/high, and for the mean and IQM across tasks in
/// <see cref="ControlSummary"/>); (2) otherwise, with at least 2 seeds, a bootstrap over seeds;
/// (3) otherwise none. (Per-episode returns are not part of an evaluation result, so they cannot be
/// resampled here; the evaluator's interval already is that bootstrap.)
/// </summary>
public static class AblationAnalysis
{
    public const string CiLow = "normalized_score_ci_low", CiHigh = "normalized_score_ci_high";

    public static AblationAnalysisResult Analyze(IReadOnlyList<AblationVariant> variants, IReadOnlyList<(string Variant, long Seed, SubRunResult Run)> runs,
        IReadOnlyList<string> baseTasks, BootstrapOptions bootstrap)
    {
        var seedRows = runs.SelectMany(r => r.Run.Evaluation.Tasks.Select(t => new AblationSeedRow(r.Variant, r.Seed, r.Run.Name, t.Task, t.Family,
            Finite(t.NormalizedScore), IntervalOf(t), t.Metrics.TryGetValue("loss", out var loss) ? Finite(loss) : null))).ToList();
        var tasks = baseTasks.Concat(seedRows.Select(r => r.Task)).Distinct().ToList();
        var taskRows = new List<AblationTaskRow>();
        var summary = new List<AblationSummaryRow>();
        var reference = variants.Count > 0 ? variants[0].Name : "";
        double? referenceMean = null;
        foreach (var variant in variants)
        {
            foreach (var task in tasks)
            {
                var rows = seedRows.Where(r => r.Variant == variant.Name && r.Task == task).OrderBy(r => r.Seed).ToList();
                if (rows.Count == 0) continue;
                var scored = rows.Where(r => r.Score is not null).ToList();
                var scores = scored.Select(r => r.Score!.Value).ToList();
                var losses = rows.Where(r => r.Loss is not null).Select(r => r.Loss!.Value).ToList();
                var seedInterval = SeedBootstrap(scores, bootstrap);
                var (interval, source) = scores.Count == 0 ? (null, IntervalSources.None)
                    : scored.All(r => r.ScoreInterval is not null) ? (Combine(scores, scored.Select(r => r.ScoreInterval!).ToList()), IntervalSources.Evaluation)
                    : seedInterval is not null ? (seedInterval, IntervalSources.Seeds)
                    : ((Interval?)null, IntervalSources.None);
                taskRows.Add(new AblationTaskRow(variant.Name, task, rows[0].Family, rows.Count,
                    Mean(scores), interval, source, scores, seedInterval, Mean(losses), SeedBootstrap(losses, bootstrap), losses));
            }
            var own = runs.Where(r => r.Variant == variant.Name).OrderBy(r => r.Seed).ToList();
            var perSeedMean = own.Select(r => (Value: r.Run.Evaluation.MeanNormalizedScore ?? Mean(r.Run.Evaluation.Tasks.Select(t => t.NormalizedScore).OfType<double>().ToList()),
                r.Run.Evaluation.Control?.MeanInterval)).Where(x => x.Value is { } v && double.IsFinite(v)).ToList();
            var perSeedIqm = own.Select(r => (Value: r.Run.Evaluation.Control?.InterquartileMean, Interval: r.Run.Evaluation.Control?.InterquartileMeanInterval))
                .Where(x => x.Value is { } v && double.IsFinite(v)).ToList();
            var (meanScore, meanInterval, meanSource) = Aggregate(perSeedMean.Select(x => (x.Value!.Value, x.MeanInterval)).ToList(), bootstrap);
            var (iqm, iqmInterval, iqmSource) = Aggregate(perSeedIqm.Select(x => (x.Value!.Value, x.Interval)).ToList(), bootstrap);
            var meanLoss = Mean(own.Select(r => Mean(r.Run.Evaluation.Tasks.Select(t => t.Metrics.TryGetValue("loss", out var l) ? Finite(l) : null).OfType<double>().ToList()))
                .OfType<double>().ToList());
            if (variant.Name == reference) referenceMean = meanScore;
            var controlTasks = taskRows.Count(t => t.Variant == variant.Name && t.Score is not null);
            summary.Add(new AblationSummaryRow(variant.Name, own.Count, controlTasks, meanScore, meanInterval, meanSource, iqm, iqmInterval, iqmSource, meanLoss,
                meanScore is { } m && referenceMean is { } rm ? m - rm : null));
        }
        return new AblationAnalysisResult(tasks, seedRows, taskRows, summary, reference, bootstrap);
    }

    private static (double? Value, Interval? Interval, string Source) Aggregate(IReadOnlyList<(double Value, Interval? Interval)> perSeed, BootstrapOptions bootstrap)
    {
        if (perSeed.Count == 0) return (null, null, IntervalSources.None);
        var values = perSeed.Select(p => p.Value).ToList();
        if (perSeed.All(p => p.Interval is not null)) return (values.Average(), Combine(values, perSeed.Select(p => p.Interval!).ToList()), IntervalSources.Evaluation);
        var seeds = SeedBootstrap(values, bootstrap);
        return (values.Average(), seeds, seeds is null ? IntervalSources.None : IntervalSources.Seeds);
    }

    /// <summary>
    /// The interval of the mean over seeds from each seed's own interval: one seed's interval as it
    /// is; for several, each side's distance from the seed's value is treated as an independent
    /// error and added in quadrature, divided by the number of seeds (the standard error of a mean
    /// of independent estimates), around the mean. It covers the evaluation noise of these trained
    /// models (episodes), not the seed-to-seed variation of training (the seed interval shows that).
    /// </summary>
    public static Interval Combine(IReadOnlyList<double> values, IReadOnlyList<Interval> intervals)
    {
        if (values.Count != intervals.Count || values.Count == 0) throw new ArgumentException("one interval per value is needed");
        if (values.Count == 1) return intervals[0];
        var n = values.Count;
        var mean = values.Average();
        var below = Math.Sqrt(values.Zip(intervals, (v, i) => Math.Pow(Math.Max(v - i.Low, 0), 2)).Sum()) / n;
        var above = Math.Sqrt(values.Zip(intervals, (v, i) => Math.Pow(Math.Max(i.High - v, 0), 2)).Sum()) / n;
        return new Interval(mean - below, mean + above);
    }

    /// <summary>Percentile bootstrap of the mean over seeds (resampling seeds with replacement); null below 2 values.</summary>
    public static Interval? SeedBootstrap(IReadOnlyList<double> values, BootstrapOptions options)
    {
        if (values.Count < 2) return null;
        options.Validate();
        var random = new Random(unchecked((int)options.Seed));
        var means = new double[options.Samples];
        for (var s = 0; s < options.Samples; s++)
        {
            double sum = 0;
            for (var i = 0; i < values.Count; i++) sum += values[random.Next(values.Count)];
            means[s] = sum / values.Count;
        }
        return Percentiles.IntervalOf(means, options.Confidence);
    }

    private static Interval? IntervalOf(TaskScore t) =>
        t.NormalizedScore is not null && t.Metrics.TryGetValue(CiLow, out var lo) && t.Metrics.TryGetValue(CiHigh, out var hi) && double.IsFinite(lo) && double.IsFinite(hi)
            ? new Interval(lo, hi) : null;

    private static double? Finite(double? v) => v is { } x && double.IsFinite(x) ? x : null;

    private static double? Mean(IReadOnlyList<double> values) => values.Count == 0 ? null : values.Average();
}
