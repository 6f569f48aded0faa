using System.Text.Json.Serialization;

namespace Generalist.Evaluation.Statistics;

/// <summary>
/// L(N) = E + A * (N / ReferenceN)^(-Alpha). N is divided by a reference (the smallest N) so the
/// fitted A is of the order of the losses; <see cref="ARaw"/> is the coefficient of N^(-Alpha) itself.
/// </summary>
public sealed record PowerLawFit(double E, double A, double Alpha, double ReferenceN, double Rmse, int Points)
{
    public double Predict(double n) => E + A * Math.Pow(n / ReferenceN, -Alpha);
    public double ARaw => A * Math.Pow(ReferenceN, Alpha);
}

/// <summary>L(N, D) = E + A (N/N0)^-Alpha + B (D/D0)^-Beta (Chinchilla's form; N0, D0 the smallest values).</summary>
public sealed record JointLawFit(double E, double A, double Alpha, double B, double Beta, double ReferenceN, double ReferenceD, double Rmse, int Points)
{
    public double Predict(double n, double d) => E + A * Math.Pow(n / ReferenceN, -Alpha) + B * Math.Pow(d / ReferenceD, -Beta);
}

public sealed record PowerLawEstimate(
    PowerLawFit Fit,
    Interval? EInterval,
    Interval? AlphaInterval,
    Interval? AInterval,
    double ExtrapolationN,
    double ExtrapolatedLoss,
    Interval? ExtrapolatedLossInterval,
    string BootstrapMethod,
    int BootstrapSamples)
{
    /// <summary>The refitted laws behind the intervals (for prediction bands); not serialized.</summary>
    [JsonIgnore] public IReadOnlyList<PowerLawFit> Samples { get; init; } = [];

    /// <summary>Pointwise percentile band of the refitted laws at each N.</summary>
    public (double[] Low, double[] High)? Band(double[] ns, double confidence)
    {
        if (Samples.Count < 2) return null;
        var tail = (1 - confidence) / 2;
        var low = ns.Select(n => Percentiles.Of(Samples.Select(s => s.Predict(n)), tail)).ToArray();
        var high = ns.Select(n => Percentiles.Of(Samples.Select(s => s.Predict(n)), 1 - tail)).ToArray();
        return (low, high);
    }
}

public sealed record JointLawEstimate(JointLawFit Fit, Interval? AlphaInterval, Interval? BetaInterval, Interval? EInterval, int BootstrapSamples);

/// <summary>
/// Scaling-law fits by nonlinear least squares on the losses: a grid over the exponents and E with
/// the linear coefficients solved exactly gives a robust start, then Levenberg-Marquardt refines
/// all parameters together. Constraints: E &gt;= 0, A, B &gt;= 0, exponents in [0, 5].
/// </summary>
public static class ScalingLaws
{
    /// <summary>The top of every exponent's search range; an estimate or interval that reaches it is not fixed by the data.</summary>
    public const double MaxExponent = 5.0;

    /// <summary>Fits L(N) = E + A N^-alpha; needs at least 3 points with at least 2 distinct N.</summary>
    public static PowerLawFit FitPowerLaw(IReadOnlyList<double> ns, IReadOnlyList<double> losses)
    {
        Check(ns, losses, 3);
        if (ns.Distinct().Count() < 2) throw new ArgumentException("a power law in N needs at least 2 distinct N");
        var n0 = ns.Min();
        var x = ns.Select(n => n / n0).ToArray();
        var y = losses.ToArray();
        var start = GridStartPowerLaw(x, y);
        return RefinePowerLaw(x, y, start, n0);
    }

    private static PowerLawFit RefinePowerLaw(double[] x, double[] y, double[] start, double n0)
    {
        var result = LevenbergMarquardt.Minimize(
            t => Residuals(x, y, t),
            start,
            t => [Math.Max(t[0], 0), Math.Max(t[1], 0), Math.Clamp(t[2], 0, MaxExponent)]);
        var t = result.Parameters;
        return new PowerLawFit(t[0], t[1], t[2], n0, Math.Sqrt(result.SumOfSquares / y.Length), y.Length);
    }

    private static double[] Residuals(double[] x, double[] y, double[] t)
    {
        var r = new double[y.Length];
        for (var i = 0; i < y.Length; i++) r[i] = t[0] + t[1] * Math.Pow(x[i], -t[2]) - y[i];
        return r;
    }

    /// <summary>Grid over (alpha, E); for each pair A is the closed-form least-squares coefficient.</summary>
    private static double[] GridStartPowerLaw(double[] x, double[] y)
    {
        var best = (sse: double.PositiveInfinity, e: 0.0, a: 0.0, alpha: 0.0);
        var minY = y.Min();
        for (var ai = 1; ai <= 300; ai++)
        {
            var alpha = ai * 0.01;
            var f = x.Select(v => Math.Pow(v, -alpha)).ToArray();
            for (var ei = 0; ei < 60; ei++)
            {
                var e = minY * ei / 60.0;
                double num = 0, den = 0;
                for (var i = 0; i < y.Length; i++) { num += f[i] * (y[i] - e); den += f[i] * f[i]; }
                var a = Math.Max(num / den, 0);
                double sse = 0;
                for (var i = 0; i < y.Length; i++) { var r = e + a * f[i] - y[i]; sse += r * r; }
                if (sse < best.sse) best = (sse, e, a, alpha);
            }
        }
        return [best.e, best.a, best.alpha];
    }

    /// <summary>Point fit, bootstrap intervals and the extrapolation to <paramref name="extrapolationFactor"/> x the largest N.</summary>
    public static PowerLawEstimate EstimatePowerLaw(IReadOnlyList<double> ns, IReadOnlyList<double> losses, BootstrapOptions? options = null, double extrapolationFactor = 10)
    {
        options ??= new BootstrapOptions();
        var fit = FitPowerLaw(ns, losses);
        var x = ns.Select(n => n / fit.ReferenceN).ToArray();
        var y = losses.ToArray();
        var fitted = ns.Select(fit.Predict).ToArray();
        double[] start = [fit.E, fit.A, fit.Alpha];
        var raw = BootstrapRefits.Run(y, fitted, 3, options, (idx, values) =>
        {
            var xs = idx.Select(i => x[i]).ToArray();
            var f = RefinePowerLaw(xs, values, start, fit.ReferenceN);
            return [f.E, f.A, f.Alpha];
        });
        var samples = raw.Select(p => new PowerLawFit(p[0], p[1], p[2], fit.ReferenceN, double.NaN, y.Length)).ToList();
        var target = ns.Max() * extrapolationFactor;
        var c = options.Confidence;
        return new PowerLawEstimate(
            fit,
            Percentiles.IntervalOf(samples.Select(s => s.E), c),
            Percentiles.IntervalOf(samples.Select(s => s.Alpha), c),
            Percentiles.IntervalOf(samples.Select(s => s.A), c),
            target,
            fit.Predict(target),
            Percentiles.IntervalOf(samples.Select(s => s.Predict(target)), c),
            options.Resolve(y.Length),
            samples.Count) { Samples = samples };
    }

    /// <summary>Fits L(N, D); needs at least 6 points with at least 2 distinct N and 2 distinct D.</summary>
    public static JointLawFit FitJointLaw(IReadOnlyList<double> ns, IReadOnlyList<double> ds, IReadOnlyList<double> losses)
    {
        Check(ns, losses, 6);
        if (ds.Count != ns.Count) throw new ArgumentException("N and D must have the same length");
        if (ds.Any(d => !(d > 0) || !double.IsFinite(d))) throw new ArgumentException("every D (tokens) must be a finite number > 0");
        if (ns.Distinct().Count() < 2 || ds.Distinct().Count() < 2) throw new ArgumentException("a joint law needs at least 2 distinct N and 2 distinct D");
        double n0 = ns.Min(), d0 = ds.Min();
        var xn = ns.Select(n => n / n0).ToArray();
        var xd = ds.Select(d => d / d0).ToArray();
        var y = losses.ToArray();
        return RefineJoint(xn, xd, y, GridStartJoint(xn, xd, y), n0, d0);
    }

    private static JointLawFit RefineJoint(double[] xn, double[] xd, double[] y, double[] start, double n0, double d0)
    {
        var result = LevenbergMarquardt.Minimize(
            t => y.Select((v, i) => t[0] + t[1] * Math.Pow(xn[i], -t[2]) + t[3] * Math.Pow(xd[i], -t[4]) - v).ToArray(),
            start,
            t => [Math.Max(t[0], 0), Math.Max(t[1], 0), Math.Clamp(t[2], 0, MaxExponent), Math.Max(t[3], 0), Math.Clamp(t[4], 0, MaxExponent)]);
        var t = result.Parameters;
        return new JointLawFit(t[0], t[1], t[2], t[3], t[4], n0, d0, Math.Sqrt(result.SumOfSquares / y.Length), y.Length);
    }

    private static double[] GridStartJoint(double[] xn, double[] xd, double[] y)
    {
        var best = (sse: double.PositiveInfinity, p: new double[5]);
        var minY = y.Min();
        for (var ai = 1; ai <= 40; ai++)
        for (var bi = 1; bi <= 40; bi++)
        {
            double alpha = ai * 0.05, beta = bi * 0.05;
            var f = xn.Select(v => Math.Pow(v, -alpha)).ToArray();
            var g = xd.Select(v => Math.Pow(v, -beta)).ToArray();
            for (var ei = 0; ei < 20; ei++)
            {
                var e = minY * ei / 20.0;
                // Two-variable least squares for (A, B) by the 2x2 normal equations; a negative
                // coefficient is clamped to 0 and the other refitted alone.
                double ff = 0, gg = 0, fg = 0, fy = 0, gy = 0;
                for (var i = 0; i < y.Length; i++)
                {
                    var t = y[i] - e;
                    ff += f[i] * f[i]; gg += g[i] * g[i]; fg += f[i] * g[i]; fy += f[i] * t; gy += g[i] * t;
                }
                var det = ff * gg - fg * fg;
                double a = det > 1e-300 ? (fy * gg - gy * fg) / det : 0, b = det > 1e-300 ? (gy * ff - fy * fg) / det : 0;
                if (a < 0 || b < 0)
                {
                    var aOnly = Math.Max(fy / ff, 0); var bOnly = Math.Max(gy / gg, 0);
                    var sseA = Sse(y, i => e + aOnly * f[i]); var sseB = Sse(y, i => e + bOnly * g[i]);
                    (a, b) = sseA <= sseB ? (aOnly, 0.0) : (0.0, bOnly);
                }
                var sse = Sse(y, i => e + a * f[i] + b * g[i]);
                if (sse < best.sse) best = (sse, [e, a, alpha, b, beta]);
            }
        }
        return best.p;
    }

    public static JointLawEstimate EstimateJointLaw(IReadOnlyList<double> ns, IReadOnlyList<double> ds, IReadOnlyList<double> losses, BootstrapOptions? options = null)
    {
        options ??= new BootstrapOptions(Samples: 300);
        var fit = FitJointLaw(ns, ds, losses);
        var xn = ns.Select(n => n / fit.ReferenceN).ToArray();
        var xd = ds.Select(d => d / fit.ReferenceD).ToArray();
        var y = losses.ToArray();
        var fitted = ns.Select((n, i) => fit.Predict(n, ds[i])).ToArray();
        double[] start = [fit.E, fit.A, fit.Alpha, fit.B, fit.Beta];
        var samples = BootstrapRefits.Run(y, fitted, 5, options, (idx, values) =>
        {
            var f = RefineJoint(idx.Select(i => xn[i]).ToArray(), idx.Select(i => xd[i]).ToArray(), values, start, fit.ReferenceN, fit.ReferenceD);
            return [f.E, f.A, f.Alpha, f.B, f.Beta];
        });
        var c = options.Confidence;
        return new JointLawEstimate(fit,
            Percentiles.IntervalOf(samples.Select(s => s[2]), c),
            Percentiles.IntervalOf(samples.Select(s => s[4]), c),
            Percentiles.IntervalOf(samples.Select(s => s[0]), c),
            samples.Count);
    }

    /// <summary>Training FLOPs by the usual 6 N D estimate (forward 2ND, backward 4ND).</summary>
    public static double TrainingFlops(double parameters, double tokens) => 6 * parameters * tokens;

    private static double Sse(double[] y, Func<int, double> predict)
    {
        double s = 0;
        for (var i = 0; i < y.Length; i++) { var r = predict(i) - y[i]; s += r * r; }
        return s;
    }

    private static void Check(IReadOnlyList<double> ns, IReadOnlyList<double> losses, int minimum)
    {
        if (ns.Count != losses.Count) throw new ArgumentException($"{ns.Count} sizes but {losses.Count} losses");
        if (ns.Count < minimum) throw new ArgumentException($"a fit needs at least {minimum} points (got {ns.Count})");
        if (ns.Any(n => !(n > 0) || !double.IsFinite(n))) throw new ArgumentException("every N (parameters) must be a finite number > 0");
        if (losses.Any(l => !(l >= 0) || !double.IsFinite(l))) throw new ArgumentException("every loss must be a finite number >= 0");
    }
}
