namespace Generalist.Evaluation.Statistics;

/// <summary>
/// Expert-normalized score (Gato): 100 * (R - R_random) / (R_expert - R_random). 0 is the random
/// policy, 100 the scripted expert; both references are measured on the same seeds as the model.
/// </summary>
public static class NormalizedScore
{
    /// <summary>Threshold ratios reported as counts (Gato reports tasks at or above 50% and 80% of expert).</summary>
    public const double Half = 50.0, EightyPercent = 80.0;

    /// <summary>
    /// The score; throws when the expert does not beat the random policy (the normalization would
    /// divide by zero or flip sign, so the task cannot be scored this way).
    /// </summary>
    public static double Compute(double modelReturn, double randomReturn, double expertReturn)
    {
        if (!double.IsFinite(modelReturn) || !double.IsFinite(randomReturn) || !double.IsFinite(expertReturn))
            throw new ArgumentException($"returns must be finite (model {modelReturn}, random {randomReturn}, expert {expertReturn})");
        var gap = expertReturn - randomReturn;
        if (!(gap > 1e-12))
            throw new ArgumentException($"expert return {expertReturn} must exceed random return {randomReturn} to normalize");
        return 100.0 * (modelReturn - randomReturn) / gap;
    }

    /// <summary>Mean and threshold counts over the scored tasks (tasks without a score are skipped).</summary>
    public static ScoreAggregate Aggregate(IEnumerable<double?> scores)
    {
        var list = scores.Where(s => s is { } v && double.IsFinite(v)).Select(s => s!.Value).ToList();
        return new ScoreAggregate(
            list.Count == 0 ? null : list.Average(),
            list.Count == 0 ? null : Median(list),
            list.Count,
            list.Count(s => s >= Half),
            list.Count(s => s >= EightyPercent));
    }

    public static double Median(IReadOnlyList<double> values)
    {
        if (values.Count == 0) throw new ArgumentException("median of no values");
        var sorted = values.OrderBy(v => v).ToArray();
        var mid = sorted.Length / 2;
        return sorted.Length % 2 == 1 ? sorted[mid] : 0.5 * (sorted[mid - 1] + sorted[mid]);
    }
}

public sealed record ScoreAggregate(double? Mean, double? Median, int Count, int AtOrAbove50, int AtOrAbove80);
