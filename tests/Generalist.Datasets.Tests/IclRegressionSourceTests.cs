using Generalist.Datasets.Sets;
using Generalist.Episodes;

namespace Generalist.Datasets.Tests;

/// <summary>The target functions, input scale, noise units and shifted held-out sources of icl-regression.</summary>
public class IclRegressionSourceTests
{
    [Fact]
    public void Sparse_weights_have_exactly_k_nonzero_coordinates_and_targets_follow_them()
    {
        var options = new IclRegressionOptions(Dimension: 8, Pairs: 6, Function: IclFunctionKinds.Sparse, SparseNonZero: 3);
        var source = (IclRegressionSource)IclRegressionSource.Create(5, options).Train;
        for (var i = 0; i < 20; i++)
        {
            var w = source.Weights(i);
            Assert.Equal(3, w.Count(v => v != 0));
            foreach (var t in source.Get(i).Timesteps)
            {
                var expected = Math.Clamp(t.Observation.Continuous!.Select((x, j) => x * w[j]).Sum() / (3 * Math.Sqrt(3)), -1, 1);
                Assert.Equal(expected, t.Action!.Continuous![0], 1e-5);
            }
        }
    }

    [Fact]
    public void Targets_have_about_a_third_standard_deviation_for_every_function_and_input_scale()
    {
        foreach (var options in new[]
                 {
                     new IclRegressionOptions(Dimension: 4, Pairs: 20),
                     new IclRegressionOptions(Dimension: 4, Pairs: 20, InputScale: 3),
                     new IclRegressionOptions(Dimension: 6, Pairs: 20, Function: IclFunctionKinds.Sparse, SparseNonZero: 2),
                     new IclRegressionOptions(Dimension: 4, Pairs: 20, Function: IclFunctionKinds.Relu2, HiddenUnits: 50),
                 })
        {
            var train = IclRegressionSource.Create(1, options).Train;
            var ys = Enumerable.Range(0, 400).SelectMany(i => train.Get(i).Timesteps.Select(t => (double)t.Action!.Continuous![0])).ToList();
            var rms = Math.Sqrt(ys.Average(y => y * y));
            Assert.InRange(rms, 0.27, 0.4); // f / (3 sigma) has second moment 1/9, a little less after clipping
        }
    }

    [Fact]
    public void Relu2_targets_are_not_linear_in_x()
    {
        var options = new IclRegressionOptions(Dimension: 2, Pairs: 40, Function: IclFunctionKinds.Relu2, HiddenUnits: 20);
        var e = IclRegressionSource.Create(3, options).Train.Get(0);
        Assert.Throws<InvalidOperationException>(() => ((IclRegressionSource)IclRegressionSource.Create(3, options).Train).Weights(0));
        // A linear function of x would be fitted exactly by least squares on 40 points; a ReLU network is not.
        var xs = e.Timesteps.Select(t => t.Observation.Continuous!.Select(v => (double)v).ToArray()).ToArray();
        var ys = e.Timesteps.Select(t => (double)t.Action!.Continuous![0]).ToArray();
        double Sxx(int a, int b) => xs.Sum(x => x[a] * x[b]);
        double Sxy(int a) => xs.Select((x, i) => x[a] * ys[i]).Sum();
        var det = Sxx(0, 0) * Sxx(1, 1) - Sxx(0, 1) * Sxx(0, 1);
        var w0 = (Sxx(1, 1) * Sxy(0) - Sxx(0, 1) * Sxy(1)) / det;
        var w1 = (Sxx(0, 0) * Sxy(1) - Sxx(0, 1) * Sxy(0)) / det;
        var residual = xs.Select((x, i) => ys[i] - w0 * x[0] - w1 * x[1]).Average(r => r * r);
        Assert.True(residual > 1e-3, $"residual {residual}");
    }

    [Fact]
    public void Shifted_held_out_sources_keep_the_functions_and_the_trained_units()
    {
        var trained = new IclRegressionOptions(Dimension: 3, Pairs: 8);
        var plain = IclRegressionSource.HeldOutShifted(9, trained, trained);
        Assert.Equal(IclRegressionSource.Create(9, trained).HeldOut.Get(4).Timesteps.Select(t => t.Action!.Continuous![0]),
            plain.Get(4).Timesteps.Select(t => t.Action!.Continuous![0]));
        var scaled = IclRegressionSource.HeldOutShifted(9, trained, trained with { InputScale = 2 });
        // Same function, x doubled: the unclipped y doubles (units are the trained task's).
        var a = plain.Get(4).Timesteps;
        var b = scaled.Get(4).Timesteps;
        for (var k = 0; k < a.Count; k++)
        {
            Assert.Equal(2 * a[k].Observation.Continuous![0], b[k].Observation.Continuous![0], 4);
            if (Math.Abs(b[k].Action!.Continuous![0]) < 1) Assert.Equal(2 * a[k].Action!.Continuous![0], b[k].Action!.Continuous![0], 4);
        }
        var longer = IclRegressionSource.HeldOutShifted(9, trained, trained with { Pairs = 12 }).Get(4).Timesteps;
        Assert.Equal(12, longer.Count);
        Assert.Equal(a.Select(t => t.Action!.Continuous![0]), longer.Take(8).Select(t => t.Action!.Continuous![0]));
    }
}
