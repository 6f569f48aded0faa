namespace Generalist.Evaluation.Statistics;

public sealed record LeastSquaresResult(double[] Parameters, double SumOfSquares, int Iterations, bool Converged);

/// <summary>
/// Levenberg-Marquardt nonlinear least squares, written by hand (no package the registry holds for
/// this project offers one). Minimizes sum r_i(theta)^2 with a central-difference Jacobian and
/// Marquardt's diagonal scaling; an optional projection keeps parameters in their valid range.
/// </summary>
public static class LevenbergMarquardt
{
    public static LeastSquaresResult Minimize(
        Func<double[], double[]> residuals,
        double[] initial,
        Func<double[], double[]>? project = null,
        int maxIterations = 200,
        double tolerance = 1e-12)
    {
        project ??= p => p;
        var theta = project((double[])initial.Clone());
        var r = residuals(theta);
        var sse = SumOfSquares(r);
        if (!double.IsFinite(sse)) return new LeastSquaresResult(theta, double.PositiveInfinity, 0, false);
        var lambda = 1e-3;
        var p = theta.Length;
        for (var iteration = 1; iteration <= maxIterations; iteration++)
        {
            var jacobian = Jacobian(residuals, theta, r.Length);
            var jtj = new double[p, p];
            var jtr = new double[p];
            for (var a = 0; a < p; a++)
            {
                for (var i = 0; i < r.Length; i++) jtr[a] += jacobian[i, a] * r[i];
                for (var b = 0; b < p; b++)
                {
                    double s = 0;
                    for (var i = 0; i < r.Length; i++) s += jacobian[i, a] * jacobian[i, b];
                    jtj[a, b] = s;
                }
            }
            var improved = false;
            while (lambda < 1e12)
            {
                var damped = (double[,])jtj.Clone();
                for (var a = 0; a < p; a++) damped[a, a] += lambda * Math.Max(jtj[a, a], 1e-12);
                var step = DenseLinearAlgebra.SolveCholesky(damped, jtr.Select(v => -v).ToArray());
                if (step is null) { lambda *= 10; continue; }
                var candidate = project(theta.Zip(step, (t, s) => t + s).ToArray());
                var rc = residuals(candidate);
                var sseC = SumOfSquares(rc);
                if (double.IsFinite(sseC) && sseC < sse)
                {
                    var relative = (sse - sseC) / Math.Max(sse, 1e-300);
                    theta = candidate;
                    r = rc;
                    sse = sseC;
                    lambda = Math.Max(lambda / 3, 1e-12);
                    improved = true;
                    if (relative < tolerance || sse < 1e-30) return new LeastSquaresResult(theta, sse, iteration, true);
                    break;
                }
                lambda *= 4;
            }
            if (!improved) return new LeastSquaresResult(theta, sse, iteration, true);
        }
        return new LeastSquaresResult(theta, sse, maxIterations, false);
    }

    public static double SumOfSquares(double[] r)
    {
        double s = 0;
        foreach (var v in r) s += v * v;
        return s;
    }

    private static double[,] Jacobian(Func<double[], double[]> residuals, double[] theta, int n)
    {
        var j = new double[n, theta.Length];
        for (var a = 0; a < theta.Length; a++)
        {
            var h = 1e-6 * Math.Max(Math.Abs(theta[a]), 1e-3);
            var plus = (double[])theta.Clone();
            var minus = (double[])theta.Clone();
            plus[a] += h;
            minus[a] -= h;
            var rp = residuals(plus);
            var rm = residuals(minus);
            for (var i = 0; i < n; i++) j[i, a] = (rp[i] - rm[i]) / (2 * h);
        }
        return j;
    }
}
