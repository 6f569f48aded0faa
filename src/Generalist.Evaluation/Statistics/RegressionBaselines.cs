namespace Generalist.Evaluation.Statistics;

/// <summary>One in-context regression sequence: points X[i] (dimension d) with targets Y[i], in context order.</summary>
public sealed record RegressionSequence(double[][] X, double[] Y)
{
    public int Dimension => X.Length == 0 ? 0 : X[0].Length;
    public int Length => Y.Length;
}

/// <summary>Mean squared error of one predictor at each number k of in-context examples (index = k).</summary>
public sealed record ErrorCurve(string Name, double[] MeanSquaredError, int[] Count);

/// <summary>
/// Baselines for in-context linear regression, evaluated on the same sequences as the model: the
/// prediction for point k uses only the k pairs before it. k runs over 0..2d (Garg et al. 2022).
/// With no example every baseline predicts 0, the prior mean of y under w ~ N(0, I).
/// </summary>
public static class RegressionBaselines
{
    public const string LeastSquares = "least_squares", Ridge = "ridge", NearestNeighbours = "3_nearest_neighbours", Mean = "mean";

    /// <summary>Every baseline's error curve for k = 0..maxK (default 2d).</summary>
    public static IReadOnlyList<ErrorCurve> Evaluate(IReadOnlyList<RegressionSequence> sequences, int? maxK = null, double ridgeLambda = 0.1)
    {
        if (sequences.Count == 0) throw new ArgumentException("no regression sequences to evaluate");
        var d = sequences[0].Dimension;
        if (sequences.Any(s => s.Dimension != d)) throw new ArgumentException("all regression sequences must have the same dimension");
        var kMax = maxK ?? 2 * d;
        var predictors = new (string Name, Func<double[][], double[], double[], double> Predict)[]
        {
            (LeastSquares, (xs, ys, q) => PredictLeastSquares(xs, ys, q, 0)),
            (Ridge, (xs, ys, q) => PredictLeastSquares(xs, ys, q, ridgeLambda)),
            (NearestNeighbours, (xs, ys, q) => PredictNearestNeighbours(xs, ys, q, 3)),
            (Mean, (_, ys, _) => ys.Length == 0 ? 0 : ys.Average()),
        };
        return predictors.Select(p => Curve(p.Name, sequences, kMax, p.Predict)).ToList();
    }

    /// <summary>Error curve for any predictor (the model's predictions go through <see cref="CurveFromPredictions"/>).</summary>
    public static ErrorCurve Curve(string name, IReadOnlyList<RegressionSequence> sequences, int maxK, Func<double[][], double[], double[], double> predict)
    {
        var sum = new double[maxK + 1];
        var count = new int[maxK + 1];
        foreach (var s in sequences)
        {
            for (var k = 0; k <= maxK && k < s.Length; k++)
            {
                var prediction = predict(s.X[..k], s.Y[..k], s.X[k]);
                var e = prediction - s.Y[k];
                sum[k] += e * e;
                count[k]++;
            }
        }
        return new ErrorCurve(name, sum.Select((v, k) => count[k] == 0 ? double.NaN : v / count[k]).ToArray(), count);
    }

    /// <summary>Error curve from predictions already made: predictions[s][k] is the prediction for point k of sequence s.</summary>
    public static ErrorCurve CurveFromPredictions(string name, IReadOnlyList<RegressionSequence> sequences, IReadOnlyList<double[]> predictions, int maxK)
    {
        if (predictions.Count != sequences.Count) throw new ArgumentException($"{predictions.Count} prediction rows for {sequences.Count} sequences");
        var sum = new double[maxK + 1];
        var count = new int[maxK + 1];
        for (var i = 0; i < sequences.Count; i++)
        for (var k = 0; k <= maxK && k < sequences[i].Length && k < predictions[i].Length; k++)
        {
            if (double.IsNaN(predictions[i][k])) continue; // not predicted (e.g. a window start)
            var e = predictions[i][k] - sequences[i].Y[k];
            sum[k] += e * e;
            count[k]++;
        }
        return new ErrorCurve(name, sum.Select((v, k) => count[k] == 0 ? double.NaN : v / count[k]).ToArray(), count);
    }

    /// <summary>Minimum-norm least squares (ridge &gt; 0: ridge regression) fitted on the context, applied to the query.</summary>
    public static double PredictLeastSquares(double[][] xs, double[] ys, double[] query, double ridge)
    {
        if (xs.Length == 0) return 0;
        var x = new double[xs.Length, query.Length];
        for (var i = 0; i < xs.Length; i++) for (var j = 0; j < query.Length; j++) x[i, j] = xs[i][j];
        var w = DenseLinearAlgebra.LeastSquares(x, ys, ridge);
        return DenseLinearAlgebra.Dot(w, query);
    }

    /// <summary>Mean target of the (up to) n nearest context points in Euclidean distance.</summary>
    public static double PredictNearestNeighbours(double[][] xs, double[] ys, double[] query, int n)
    {
        if (xs.Length == 0) return 0;
        var nearest = Enumerable.Range(0, xs.Length)
            .Select(i => (i, dist: xs[i].Select((v, j) => (v - query[j]) * (v - query[j])).Sum()))
            .OrderBy(t => t.dist).ThenBy(t => t.i)
            .Take(n)
            .ToList();
        return nearest.Average(t => ys[t.i]);
    }
}
