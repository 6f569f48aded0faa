using Generalist.Evaluation.Statistics;

namespace Generalist.Evaluation.InContext;

/// <summary>A learning algorithm run in context: fits the k pairs before a query and predicts it.</summary>
/// <param name="Name">Column name in reports ("least_squares", "ridge_0.1", "gd_3").</param>
/// <param name="Predict">(context xs, context ys, query) -> prediction; with no pairs every algorithm predicts 0, the prior mean.</param>
public sealed record IclAlgorithm(string Name, Func<double[][], double[], double[], double> Predict);

/// <summary>
/// The algorithms the model is compared with (Garg et al. 2022; von Oswald et al. 2023; Akyürek et
/// al. 2022): the zero predictor (the prior mean of y), minimum-norm least squares, ridge at several
/// lambda, k-nearest neighbours, averaging (w = mean of y_i x_i) and gradient descent from w = 0
/// with a few steps. Each is a pure function of the context, so the model's predictions and the
/// algorithms' are on exactly the same prompts.
/// </summary>
public static class IclAlgorithms
{
    public const string Zero = "zero", LeastSquares = "least_squares", Averaging = "averaging", Mean = "mean";

    /// <summary>The default ridge strengths: around the Bayes-optimal value for the task's noise (0 noise: least squares).</summary>
    public static readonly double[] DefaultRidgeLambdas = [0.01, 0.1, 1.0];
    public static readonly int[] DefaultGdSteps = [1, 2, 3, 5, 10];
    /// <summary>Step sizes tried for gradient descent; the best per step count is chosen on tuning prompts.</summary>
    public static readonly double[] GdStepSizes = [0.02, 0.05, 0.1, 0.2, 0.3, 0.5, 0.7, 1.0, 1.5];

    public static string RidgeName(double lambda) => FormattableString.Invariant($"ridge_{lambda:0.###}");
    public static string GdName(int steps) => FormattableString.Invariant($"gd_{steps}");
    public static string NearestName(int n) => FormattableString.Invariant($"{n}_nearest_neighbours");

    /// <summary>Everything except gradient descent (whose step size is tuned, <see cref="TuneGradientDescent"/>).</summary>
    public static List<IclAlgorithm> Closed(IReadOnlyList<double> ridgeLambdas, int neighbours = 3)
    {
        var list = new List<IclAlgorithm>
        {
            new(Zero, (_, _, _) => 0),
            new(LeastSquares, (xs, ys, q) => RegressionBaselines.PredictLeastSquares(xs, ys, q, 0)),
        };
        list.AddRange(ridgeLambdas.Select(l => new IclAlgorithm(RidgeName(l), (xs, ys, q) => RegressionBaselines.PredictLeastSquares(xs, ys, q, l))));
        list.Add(new(NearestName(neighbours), (xs, ys, q) => RegressionBaselines.PredictNearestNeighbours(xs, ys, q, neighbours)));
        list.Add(new(Averaging, PredictAveraging));
        list.Add(new(Mean, (_, ys, _) => ys.Length == 0 ? 0 : ys.Average()));
        return list;
    }

    /// <summary>Averaging (Garg et al.): w = (1/k) sum y_i x_i, unbiased for w when x ~ N(0, I), then w.q.</summary>
    public static double PredictAveraging(double[][] xs, double[] ys, double[] q)
    {
        if (xs.Length == 0) return 0;
        var w = new double[q.Length];
        for (var i = 0; i < xs.Length; i++) for (var j = 0; j < q.Length; j++) w[j] += ys[i] * xs[i][j];
        for (var j = 0; j < q.Length; j++) w[j] /= xs.Length;
        return DenseLinearAlgebra.Dot(w, q);
    }

    /// <summary>
    /// The weights after <paramref name="steps"/> steps of gradient descent on L(w) = 1/(2k) |Xw - y|^2
    /// from w = 0 with step size eta: w &lt;- w - eta/k X^T (Xw - y). One step is eta times the averaging
    /// estimate: the step von Oswald et al. show one linear-attention layer can take.
    /// </summary>
    public static double[] GradientDescentWeights(double[][] xs, double[] ys, int dimension, int steps, double eta)
    {
        var w = new double[dimension];
        if (xs.Length == 0) return w;
        var grad = new double[dimension];
        for (var t = 0; t < steps; t++)
        {
            Array.Clear(grad);
            for (var i = 0; i < xs.Length; i++)
            {
                var r = DenseLinearAlgebra.Dot(w, xs[i]) - ys[i];
                for (var j = 0; j < dimension; j++) grad[j] += r * xs[i][j];
            }
            for (var j = 0; j < dimension; j++) w[j] -= eta * grad[j] / xs.Length;
        }
        return w;
    }

    public static IclAlgorithm GradientDescent(int steps, double eta) =>
        new(GdName(steps), (xs, ys, q) => xs.Length == 0 ? 0 : DenseLinearAlgebra.Dot(GradientDescentWeights(xs, ys, q.Length, steps, eta), q));

    /// <summary>
    /// For each step count, the step size with the lowest mean squared error over k = 1..maxK on
    /// tuning prompts (held-out functions that are not the evaluated ones), so GD is given its best
    /// learning rate without seeing the prompts it is scored on. Ties go to the smaller step size.
    /// </summary>
    public static IReadOnlyList<(IclAlgorithm Algorithm, double StepSize)> TuneGradientDescent(
        IReadOnlyList<RegressionSequence> tuning, IReadOnlyList<int> stepCounts, int maxK, IReadOnlyList<double>? stepSizes = null)
    {
        stepSizes ??= GdStepSizes;
        var tuned = new List<(IclAlgorithm, double)>();
        foreach (var steps in stepCounts)
        {
            var best = (Eta: stepSizes[0], Mse: double.PositiveInfinity);
            foreach (var eta in stepSizes)
            {
                var candidate = GradientDescent(steps, eta);
                double sum = 0;
                var n = 0;
                foreach (var s in tuning)
                    for (var k = 1; k <= maxK && k < s.Length; k++)
                    {
                        var e = candidate.Predict(s.X[..k], s.Y[..k], s.X[k]) - s.Y[k];
                        sum += e * e;
                        n++;
                    }
                var mse = n == 0 ? double.PositiveInfinity : sum / n;
                if (double.IsFinite(mse) && mse < best.Mse) best = (eta, mse);
            }
            tuned.Add((GradientDescent(steps, best.Eta), best.Eta));
        }
        return tuned;
    }
}
