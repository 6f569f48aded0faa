using Generalist.Evaluation.Statistics;

namespace Generalist.Evaluation.Tests;

public class RegressionBaselineTests
{
    internal static List<RegressionSequence> Sequences(int count, int d, int length, double noise, int seed)
    {
        var random = new Random(seed);
        double Gauss() => Math.Sqrt(-2 * Math.Log(1 - random.NextDouble())) * Math.Cos(2 * Math.PI * random.NextDouble());
        var list = new List<RegressionSequence>();
        for (var s = 0; s < count; s++)
        {
            var w = Enumerable.Range(0, d).Select(_ => Gauss()).ToArray();
            var xs = Enumerable.Range(0, length).Select(_ => Enumerable.Range(0, d).Select(_ => Gauss()).ToArray()).ToArray();
            var ys = xs.Select(x => x.Zip(w, (a, b) => a * b).Sum() + noise * Gauss()).ToArray();
            list.Add(new RegressionSequence(xs, ys));
        }
        return list;
    }

    [Fact]
    public void LeastSquaresIsExactOnNoiselessDataOnceKReachesD()
    {
        const int d = 5;
        var curves = RegressionBaselines.Evaluate(Sequences(40, d, 2 * d + 1, 0, 3));
        var ls = curves.Single(c => c.Name == RegressionBaselines.LeastSquares);
        Assert.Equal(2 * d + 1, ls.MeanSquaredError.Length);
        for (var k = d; k <= 2 * d; k++) Assert.True(ls.MeanSquaredError[k] < 1e-18, $"k={k}: {ls.MeanSquaredError[k]}");
        // Below d the system is underdetermined: the error is of the order of the signal.
        Assert.True(ls.MeanSquaredError[d - 2] > 0.1);
        // With no example every baseline predicts 0, so all agree at k = 0.
        Assert.All(curves, c => Assert.Equal(ls.MeanSquaredError[0], c.MeanSquaredError[0], 12));
    }

    [Fact]
    public void LeastSquaresRecoversWeightsExactly()
    {
        var x = new double[,] { { 1, 2 }, { 3, 4 }, { 5, 7 } };
        var w = DenseLinearAlgebra.LeastSquares(x, [1 * 2 - 3.0 * 2 + 0, 3 * 2 - 3.0 * 4, 5 * 2 - 3.0 * 7]);
        Assert.Equal(2, w[0], 12);
        Assert.Equal(-3, w[1], 12);
    }

    [Fact]
    public void UnderdeterminedLeastSquaresIsMinimumNorm()
    {
        // One equation x1 + x2 = 2: the minimum-norm solution is (1, 1).
        var w = DenseLinearAlgebra.LeastSquares(new double[,] { { 1, 1 } }, [2]);
        Assert.Equal(1, w[0], 12);
        Assert.Equal(1, w[1], 12);
    }

    [Fact]
    public void RidgeBeatsLeastSquaresNearKEqualsDWithNoiseAndAllBeatMeanLater()
    {
        const int d = 4;
        var curves = RegressionBaselines.Evaluate(Sequences(400, d, 2 * d + 1, 0.5, 7), ridgeLambda: 0.25).ToDictionary(c => c.Name);
        Assert.True(curves[RegressionBaselines.Ridge].MeanSquaredError[d] < curves[RegressionBaselines.LeastSquares].MeanSquaredError[d]);
        Assert.True(curves[RegressionBaselines.LeastSquares].MeanSquaredError[2 * d] < curves[RegressionBaselines.Mean].MeanSquaredError[2 * d]);
        Assert.True(curves[RegressionBaselines.NearestNeighbours].MeanSquaredError[2 * d] > curves[RegressionBaselines.Ridge].MeanSquaredError[2 * d]);
    }

    [Fact]
    public void NearestNeighboursAveragesTheThreeClosest()
    {
        double[][] xs = [[0.0], [1.0], [2.0], [10.0]];
        Assert.Equal((1 + 2 + 3) / 3.0, RegressionBaselines.PredictNearestNeighbours(xs, [1, 2, 3, 100], [0.9], 3), 12);
    }

    [Fact]
    public void ModelPredictionsAreScoredOnTheSameSequences()
    {
        var seqs = Sequences(3, 2, 5, 0, 1);
        var perfect = seqs.Select(s => s.Y.ToArray()).ToList();
        var curve = RegressionBaselines.CurveFromPredictions("model", seqs, perfect, 4);
        Assert.All(curve.MeanSquaredError, v => Assert.Equal(0, v));
        Assert.All(curve.Count, c => Assert.Equal(3, c));
    }
}
