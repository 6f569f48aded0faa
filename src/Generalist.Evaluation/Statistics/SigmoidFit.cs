namespace Generalist.Evaluation.Statistics;

/// <summary>
/// Normalized score as a function of loss: S(L) = Lower + (Upper - Lower) / (1 + exp((L - Mid) / Scale)).
/// Lower and Upper are fixed at 0 (random policy) and 100 (expert) by default, so only the loss at
/// half of expert (Mid) and the width (Scale &gt; 0) are fitted: robust with a handful of points.
/// </summary>
public sealed record SigmoidFit(double Mid, double Scale, double Lower, double Upper, double Rmse, int Points)
{
    public double Predict(double loss) => Lower + (Upper - Lower) / (1 + Math.Exp((loss - Mid) / Scale));
}

public sealed record SigmoidEstimate(SigmoidFit Fit, Interval? MidInterval, Interval? ScaleInterval, int BootstrapSamples);

public static class SigmoidFitter
{
    public static SigmoidFit Fit(IReadOnlyList<double> losses, IReadOnlyList<double> scores, double lower = 0, double upper = 100)
    {
        if (losses.Count != scores.Count) throw new ArgumentException($"{losses.Count} losses but {scores.Count} scores");
        if (losses.Count < 3) throw new ArgumentException($"a sigmoid fit needs at least 3 points (got {losses.Count})");
        if (losses.Concat(scores).Any(v => !double.IsFinite(v))) throw new ArgumentException("losses and scores must be finite");
        if (!(upper > lower)) throw new ArgumentException("upper must exceed lower");
        var x = losses.ToArray();
        var y = scores.ToArray();
        return Refine(x, y, GridStart(x, y, lower, upper), lower, upper);
    }

    private static SigmoidFit Refine(double[] x, double[] y, double[] start, double lower, double upper)
    {
        // Parameters (Mid, log Scale): the log keeps the width positive without a constraint.
        var result = LevenbergMarquardt.Minimize(
            t => y.Select((v, i) => lower + (upper - lower) / (1 + Math.Exp((x[i] - t[0]) / Math.Exp(t[1]))) - v).ToArray(),
            start,
            t => [t[0], Math.Clamp(t[1], -30, 30)]);
        var p = result.Parameters;
        return new SigmoidFit(p[0], Math.Exp(p[1]), lower, upper, Math.Sqrt(result.SumOfSquares / y.Length), y.Length);
    }

    private static double[] GridStart(double[] x, double[] y, double lower, double upper)
    {
        double min = x.Min(), max = x.Max(), range = Math.Max(max - min, 1e-3);
        var best = (sse: double.PositiveInfinity, mid: min, logScale: 0.0);
        for (var mi = 0; mi <= 80; mi++)
        {
            var mid = min - range + 3 * range * mi / 80.0;
            for (var si = 0; si <= 40; si++)
            {
                var scale = range * Math.Pow(10, -2 + 3 * si / 40.0);
                double sse = 0;
                for (var i = 0; i < x.Length; i++)
                {
                    var r = lower + (upper - lower) / (1 + Math.Exp((x[i] - mid) / scale)) - y[i];
                    sse += r * r;
                }
                if (sse < best.sse) best = (sse, mid, Math.Log(scale));
            }
        }
        return [best.mid, best.logScale];
    }

    public static SigmoidEstimate Estimate(IReadOnlyList<double> losses, IReadOnlyList<double> scores, BootstrapOptions? options = null)
    {
        options ??= new BootstrapOptions(Samples: 500);
        var fit = Fit(losses, scores);
        var x = losses.ToArray();
        var fitted = x.Select(fit.Predict).ToArray();
        double[] start = [fit.Mid, Math.Log(fit.Scale)];
        var samples = BootstrapRefits.Run(scores.ToArray(), fitted, 2, options, (idx, values) =>
        {
            var f = Refine(idx.Select(i => x[i]).ToArray(), values, start, fit.Lower, fit.Upper);
            return [f.Mid, f.Scale];
        });
        return new SigmoidEstimate(fit,
            Percentiles.IntervalOf(samples.Select(s => s[0]), options.Confidence),
            Percentiles.IntervalOf(samples.Select(s => s[1]), options.Confidence),
            samples.Count);
    }
}
