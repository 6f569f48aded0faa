using Generalist.Evaluation.Statistics;

namespace Generalist.Evaluation.Tests;

public class ScalingLawTests
{
    private static (double[] N, double[] L) Synthetic(double e, double a, double alpha, double noise, int seed, int sizes = 12)
    {
        var random = new Random(seed);
        var ns = Enumerable.Range(0, sizes).Select(i => 1e5 * Math.Pow(10, 3.0 * i / (sizes - 1))).ToArray();
        var ls = ns.Select(n => (e + a * Math.Pow(n, -alpha)) * (1 + noise * (2 * random.NextDouble() - 1))).ToArray();
        return (ns, ls);
    }

    [Theory]
    [InlineData(1.69, 406.4, 0.34, 1)]
    [InlineData(2.0, 60.0, 0.2, 2)]
    [InlineData(0.5, 1500.0, 0.5, 3)]
    [InlineData(1.2, 30.0, 0.12, 4)]
    public void PowerLawRecoversTheExponentFromNoisyData(double e, double a, double alpha, int seed)
    {
        var (ns, ls) = Synthetic(e, a, alpha, 0.005, seed);
        var fit = ScalingLaws.FitPowerLaw(ns, ls);
        Assert.InRange(fit.Alpha, alpha - 0.02, alpha + 0.02);
        // E is weakly identified when alpha is small (the curve is nearly straight in log N), so it gets a wider band.
        Assert.InRange(fit.E, e * 0.7, e * 1.3);
    }

    [Fact]
    public void NoiselessDataAreFitExactly()
    {
        var (ns, ls) = Synthetic(1.5, 200, 0.3, 0, 1, sizes: 5);
        var fit = ScalingLaws.FitPowerLaw(ns, ls);
        Assert.Equal(0.3, fit.Alpha, 4);
        Assert.Equal(200, fit.ARaw, 0);
        Assert.True(fit.Rmse < 1e-6);
    }

    [Fact]
    public void BootstrapIntervalCoversTruthAndIsSeeded()
    {
        var (ns, ls) = Synthetic(1.69, 406.4, 0.34, 0.01, 9, sizes: 8);
        var a = ScalingLaws.EstimatePowerLaw(ns, ls, new BootstrapOptions(Samples: 300, Seed: 5));
        var b = ScalingLaws.EstimatePowerLaw(ns, ls, new BootstrapOptions(Samples: 300, Seed: 5));
        Assert.NotNull(a.AlphaInterval);
        Assert.True(a.AlphaInterval!.Low < a.Fit.Alpha && a.Fit.Alpha < a.AlphaInterval.High);
        Assert.Equal(a.AlphaInterval, b.AlphaInterval);
        Assert.Equal(a.ExtrapolatedLossInterval, b.ExtrapolatedLossInterval);
        Assert.Equal(10 * ns.Max(), a.ExtrapolationN);
        var truth = 1.69 + 406.4 * Math.Pow(a.ExtrapolationN, -0.34);
        Assert.InRange(truth, a.ExtrapolatedLossInterval!.Low - 0.05, a.ExtrapolatedLossInterval.High + 0.05);
        var band = a.Band([ns.Min(), ns.Max()], 0.95)!.Value;
        Assert.True(band.Low[0] <= band.High[0]);
    }

    [Fact]
    public void FourSizesGiveResidualBootstrapIntervals()
    {
        var (ns, ls) = Synthetic(2, 50, 0.25, 0.01, 3, sizes: 4);
        var est = ScalingLaws.EstimatePowerLaw(ns, ls, new BootstrapOptions(Samples: 200));
        Assert.Equal("residual", est.BootstrapMethod);
        Assert.NotNull(est.ExtrapolatedLossInterval);
    }

    [Fact]
    public void JointLawRecoversBothExponents()
    {
        var random = new Random(11);
        var ns = new List<double>(); var ds = new List<double>(); var ls = new List<double>();
        foreach (var n in new[] { 1e5, 3e5, 1e6, 3e6, 1e7, 3e7 })
        foreach (var d in new[] { 1e7, 3e7, 1e8, 3e8, 1e9 })
        {
            ns.Add(n); ds.Add(d);
            ls.Add((1.7 + 400 * Math.Pow(n, -0.34) + 410 * Math.Pow(d, -0.28)) * (1 + 0.003 * (2 * random.NextDouble() - 1)));
        }
        var fit = ScalingLaws.FitJointLaw(ns, ds, ls);
        Assert.InRange(fit.Alpha, 0.32, 0.36);
        Assert.InRange(fit.Beta, 0.26, 0.30);
    }

    [Fact]
    public void TooFewPointsAreRejectedWithAReason()
    {
        var e = Assert.Throws<ArgumentException>(() => ScalingLaws.FitPowerLaw([1, 2], [3, 2]));
        Assert.Contains("at least 3 points", e.Message);
        Assert.Throws<ArgumentException>(() => ScalingLaws.FitPowerLaw([1, 2, -3], [3, 2, 1]));
    }

    [Fact]
    public void SigmoidRecoversMidpointAndScale()
    {
        var random = new Random(2);
        var losses = Enumerable.Range(0, 10).Select(i => 1.0 + 0.2 * i).ToArray();
        var scores = losses.Select(l => 100 / (1 + Math.Exp((l - 1.9) / 0.15)) + (random.NextDouble() - 0.5)).ToArray();
        var est = SigmoidFitter.Estimate(losses, scores, new BootstrapOptions(Samples: 200));
        Assert.InRange(est.Fit.Mid, 1.88, 1.92);
        Assert.InRange(est.Fit.Scale, 0.13, 0.17);
        Assert.True(est.MidInterval!.Contains(est.Fit.Mid));
    }
}
