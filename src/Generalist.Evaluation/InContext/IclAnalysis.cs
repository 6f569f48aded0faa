using Generalist.Evaluation.Statistics;

namespace Generalist.Evaluation.InContext;

/// <summary>Mean squared error at each k (index = k) with its bootstrap interval over prompts.</summary>
public sealed record IclCurve(string Name, double[] Mse, Interval?[] Interval, int[] Count);

/// <summary>Mean over prompts of (model prediction - algorithm prediction)^2 at each k, with its interval.</summary>
public sealed record IclAgreement(string Algorithm, double[] MeanSquaredDifference, Interval?[] Interval);

/// <summary>One set of prompts (in distribution, or a shift such as x scaled x2) and every curve on it.</summary>
public sealed record IclCondition(string Name, string Description, int Prompts, int MaxK, IclCurve Model,
    IReadOnlyList<IclCurve> Algorithms, IReadOnlyList<IclAgreement> Agreement);

/// <summary>The in-context regression analysis of one checkpoint: conditions, GD's tuned step sizes and how intervals were drawn.</summary>
public sealed record IclReport(string Task, int Dimension, int TrainedPairs, string Function, IReadOnlyList<IclCondition> Conditions,
    IReadOnlyDictionary<string, double> GdStepSizes, int BootstrapSamples, double Confidence, long BootstrapSeed);

/// <summary>
/// Curves and agreement for one condition: every algorithm and the model predict every query of
/// the same prompts; intervals come from one paired bootstrap over prompts (the same resampled
/// prompt sets for every curve, so differences between curves are not blurred by independent
/// resamples).
/// </summary>
public static class IclAnalysis
{
    /// <summary>predictions[a][s][k] for every algorithm a, prompt s and query k &lt;= maxK.</summary>
    public static double[][][] Predict(IReadOnlyList<IclAlgorithm> algorithms, IReadOnlyList<RegressionSequence> prompts, int maxK) =>
        algorithms.Select(a => prompts.Select(s =>
        {
            var row = new double[Math.Min(maxK, s.Length - 1) + 1];
            for (var k = 0; k < row.Length; k++) row[k] = a.Predict(s.X[..k], s.Y[..k], s.X[k]);
            return row;
        }).ToArray()).ToArray();

    public static IclCondition Analyse(string name, string description, IReadOnlyList<RegressionSequence> prompts, IReadOnlyList<double[]> model,
        IReadOnlyList<IclAlgorithm> algorithms, int maxK, BootstrapOptions bootstrap)
    {
        if (model.Count != prompts.Count) throw new ArgumentException($"{model.Count} model prediction rows for {prompts.Count} prompts");
        var predictions = Predict(algorithms, prompts, maxK);
        var resamples = Resamples(prompts.Count, bootstrap);
        IclCurve Curve(string curveName, Func<int, int, double> value)
        {
            var mse = new double[maxK + 1];
            var intervals = new Interval?[maxK + 1];
            var counts = new int[maxK + 1];
            for (var k = 0; k <= maxK; k++)
            {
                var v = new double[prompts.Count];
                for (var s = 0; s < prompts.Count; s++) v[s] = value(s, k);
                (mse[k], intervals[k], counts[k]) = MeanWithInterval(v, resamples, bootstrap.Confidence);
            }
            return new IclCurve(curveName, mse, intervals, counts);
        }
        double SquaredError(IReadOnlyList<double[]> rows, int s, int k) => k < rows[s].Length && k < prompts[s].Length && !double.IsNaN(rows[s][k])
            ? (rows[s][k] - prompts[s].Y[k]) * (rows[s][k] - prompts[s].Y[k]) : double.NaN;
        var modelCurve = Curve("model", (s, k) => SquaredError(model, s, k));
        var curves = algorithms.Select((a, i) => Curve(a.Name, (s, k) => SquaredError(predictions[i], s, k))).ToList();
        var agreement = algorithms.Select((a, i) =>
        {
            var c = Curve(a.Name, (s, k) => k < model[s].Length && k < predictions[i][s].Length && !double.IsNaN(model[s][k])
                ? (model[s][k] - predictions[i][s][k]) * (model[s][k] - predictions[i][s][k]) : double.NaN);
            return new IclAgreement(a.Name, c.Mse, c.Interval);
        }).ToList();
        return new IclCondition(name, description, prompts.Count, maxK, modelCurve, curves, agreement);
    }

    /// <summary>Seeded resamples of prompt indices (with replacement), shared by every curve of a condition.</summary>
    public static int[][] Resamples(int n, BootstrapOptions options)
    {
        options.Validate();
        var random = new Random(unchecked((int)options.Seed));
        return Enumerable.Range(0, options.Samples).Select(_ => Enumerable.Range(0, n).Select(_ => random.Next(n)).ToArray()).ToArray();
    }

    /// <summary>Mean of the finite values, and the percentile interval of the means of the resamples (NaN values are skipped in both).</summary>
    public static (double Mean, Interval? Interval, int Count) MeanWithInterval(double[] values, int[][] resamples, double confidence)
    {
        var finite = values.Where(double.IsFinite).ToArray();
        if (finite.Length == 0) return (double.NaN, null, 0);
        var means = new double[resamples.Length];
        for (var b = 0; b < resamples.Length; b++)
        {
            double sum = 0;
            var n = 0;
            foreach (var i in resamples[b])
                if (double.IsFinite(values[i])) { sum += values[i]; n++; }
            means[b] = n == 0 ? double.NaN : sum / n;
        }
        return (finite.Average(), finite.Length < 2 ? null : Percentiles.IntervalOf(means, confidence), finite.Length);
    }
}
