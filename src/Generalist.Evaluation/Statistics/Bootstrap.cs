using System.Text.Json.Serialization;

namespace Generalist.Evaluation.Statistics;

/// <summary>A two-sided interval, e.g. a bootstrap percentile interval.</summary>
public sealed record Interval(
    [property: JsonPropertyName("low")] double Low,
    [property: JsonPropertyName("high")] double High)
{
    public bool Contains(double v) => v >= Low && v <= High;
}

/// <summary>
/// How intervals are bootstrapped. "residual": refit on fitted values plus resampled residuals
/// (rescaled by sqrt(n/(n-p)) for the fitted degrees of freedom); works with few points, e.g. four
/// model sizes. "case": resample whole points with replacement; better with many points.
/// "auto": case with at least 12 points, else residual.
/// </summary>
public sealed record BootstrapOptions(int Samples = 1000, double Confidence = 0.95, long Seed = 17, string Method = "auto")
{
    public void Validate()
    {
        if (Samples is < 10 or > 100_000) throw new ArgumentException($"bootstrap samples must be in [10, 100000] (got {Samples})");
        if (!(Confidence > 0 && Confidence < 1)) throw new ArgumentException($"bootstrap confidence must be in (0, 1) (got {Confidence})");
        if (Method is not ("auto" or "residual" or "case")) throw new ArgumentException($"bootstrap method must be auto, residual or case (got '{Method}')");
    }

    public string Resolve(int points) => Method == "auto" ? (points >= 12 ? "case" : "residual") : Method;
}

public static class Percentiles
{
    /// <summary>Linear-interpolated percentile (q in [0, 1]) of finite values; NaN when there are none.</summary>
    public static double Of(IEnumerable<double> values, double q)
    {
        var sorted = values.Where(double.IsFinite).OrderBy(v => v).ToArray();
        if (sorted.Length == 0) return double.NaN;
        var pos = q * (sorted.Length - 1);
        var lo = (int)Math.Floor(pos);
        var hi = Math.Min(lo + 1, sorted.Length - 1);
        return sorted[lo] + (pos - lo) * (sorted[hi] - sorted[lo]);
    }

    public static Interval? IntervalOf(IEnumerable<double> values, double confidence)
    {
        var list = values.Where(double.IsFinite).ToList();
        if (list.Count < 2) return null;
        var tail = (1 - confidence) / 2;
        return new Interval(Of(list, tail), Of(list, 1 - tail));
    }
}

/// <summary>Generic seeded bootstrap of a least-squares fit: yields refitted parameter vectors.</summary>
public static class BootstrapRefits
{
    /// <param name="ys">Observed values.</param>
    /// <param name="fitted">Fitted values at the observed points.</param>
    /// <param name="parameterCount">Fitted parameters (for the residual rescaling).</param>
    /// <param name="refit">Refits on (indices of points used, values to fit at those points); null when the fit fails.</param>
    public static List<double[]> Run(double[] ys, double[] fitted, int parameterCount, BootstrapOptions options, Func<int[], double[], double[]?> refit)
    {
        options.Validate();
        var n = ys.Length;
        var samples = new List<double[]>(options.Samples);
        var method = options.Resolve(n);
        if (method == "residual" && n <= parameterCount) return samples; // no residual degrees of freedom
        var random = new Random(unchecked((int)options.Seed));
        var residuals = ys.Zip(fitted, (y, f) => y - f).ToArray();
        var meanResidual = residuals.Average();
        var scale = n > parameterCount ? Math.Sqrt((double)n / (n - parameterCount)) : 1;
        var attempts = 0;
        while (samples.Count < options.Samples && attempts < options.Samples * 3)
        {
            attempts++;
            int[] idx;
            double[] values;
            if (method == "case")
            {
                idx = Enumerable.Range(0, n).Select(_ => random.Next(n)).ToArray();
                // A resample with fewer distinct points than parameters cannot identify the fit.
                if (idx.Distinct().Count() <= parameterCount) continue;
                values = idx.Select(i => ys[i]).ToArray();
            }
            else
            {
                idx = Enumerable.Range(0, n).ToArray();
                values = idx.Select(i => fitted[i] + scale * (residuals[random.Next(n)] - meanResidual)).ToArray();
            }
            var p = refit(idx, values);
            if (p is not null && p.All(double.IsFinite)) samples.Add(p);
        }
        return samples;
    }
}
