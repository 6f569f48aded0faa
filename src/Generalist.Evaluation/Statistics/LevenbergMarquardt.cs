using MathNet.Numerics.LinearAlgebra;
using MathNet.Numerics.Optimization;

namespace Generalist.Evaluation.Statistics;

public sealed record LeastSquaresResult(double[] Parameters, double SumOfSquares, int Iterations, bool Converged);

/// <summary>
/// Nonlinear least squares: minimizes sum r_i(theta)^2 with MathNet.Numerics'
/// LevenbergMarquardtMinimizer. An optional projection keeps parameters in their valid range.
/// </summary>
public static class LevenbergMarquardt
{
    /// <summary>Rounds of restarting from the projected point while a parameter sits on its bound (see Minimize).</summary>
    private const int MaxRounds = 4;

    /// <param name="residuals">r(theta), evaluated only at projected parameters.</param>
    /// <param name="initial">The start (projected first).</param>
    /// <param name="project">Maps parameters into their valid range (e.g. clamps); identity when null.</param>
    /// <param name="maxIterations">Levenberg-Marquardt iterations in all (restarts included).</param>
    /// <param name="tolerance">MathNet's step tolerance, and the relative SSE gain below which no restart follows.</param>
    /// <remarks>
    /// MathNet's own bounds (a sin/sqrt change of variables) are not used: their derivative is 0 on
    /// the bound, so a start on it (the grids start E and A at 0) never moves, and they need the
    /// same kind of bound on every parameter (E &gt;= 0 has no upper bound, alpha has one). Instead
    /// the projection is applied inside the model: beyond a bound the residuals stop changing, the
    /// parameter holds still and the others go on. Then the search restarts from the projected
    /// point, where the Jacobian sees the inner side of the bound, so a parameter the data pull
    /// back inside can leave it again.
    /// </remarks>
    public static LeastSquaresResult Minimize(
        Func<double[], double[]> residuals,
        double[] initial,
        Func<double[], double[]>? project = null,
        int maxIterations = 200,
        double tolerance = 1e-12)
    {
        project ??= p => p;
        var start = project((double[])initial.Clone());
        var r0 = residuals(start);
        var sse0 = SumOfSquares(r0);
        if (!double.IsFinite(sse0)) return new LeastSquaresResult(start, double.PositiveInfinity, 0, false);

        // MathNet's result holds the last point evaluated, which after a rejected step is not the
        // best one; the model function keeps the best (feasible) point it has seen instead.
        var best = (Theta: start, Sse: sse0, Clamped: false);
        Vector<double> Model(Vector<double> p, Vector<double> _)
        {
            var raw = p.ToArray();
            var theta = project((double[])raw.Clone());
            var r = residuals(theta);
            var sse = SumOfSquares(r);
            if (sse < best.Sse) best = (theta, sse, !raw.AsSpan().SequenceEqual(theta));
            return Vector<double>.Build.DenseOfArray(r);
        }
        Matrix<double> Jacobian(Vector<double> p, Vector<double> _) => CentralDifferences(residuals, project, p.ToArray(), r0.Length);

        // The observations are 0 and the "model" is the residual vector, so MathNet minimizes |r|^2.
        var objective = ObjectiveFunction.NonlinearModel(Model, Jacobian,
            Vector<double>.Build.Dense(r0.Length, i => i), Vector<double>.Build.Dense(r0.Length));
        var iterations = 0;
        var converged = false;
        var guess = start;
        for (var round = 0; round < MaxRounds && iterations < maxIterations; round++)
        {
            var before = best.Sse;
            // MathNet stops when |step| <= tol * (tol + |theta|^2); a gradient tolerance of 0 and an
            // SSE of 1e-30 stop it early only on an exact fit.
            var minimizer = new LevenbergMarquardtMinimizer(initialMu: 1e-3, gradientTolerance: 0, stepTolerance: tolerance,
                functionTolerance: 1e-30, maximumIterations: maxIterations - iterations);
            NonlinearMinimizationResult result;
            try
            {
                result = minimizer.FindMinimum(objective, Vector<double>.Build.DenseOfArray(guess));
            }
            catch (ArgumentException)
            {
                // MathNet refuses a non-finite trial point (its damping overflowed); the best point stands.
                converged = false;
                break;
            }
            iterations += Math.Max(result.Iterations, 0);
            converged = result.ReasonForExit is not (ExitCondition.ExceedIterations or ExitCondition.InvalidValues);
            if (!best.Clamped || before - best.Sse <= tolerance * before) break;
            guess = best.Theta;
        }
        return new LeastSquaresResult(best.Theta, best.Sse, iterations, converged);
    }

    public static double SumOfSquares(double[] r)
    {
        double s = 0;
        foreach (var v in r) s += v * v;
        return s;
    }

    /// <summary>
    /// The Jacobian by central differences of the projected residuals, with a step relative to each
    /// parameter but at least 1e-9. Kept by hand rather than MathNet's numerical Jacobian: that one
    /// steps 3e-6 |theta| with a floor of 4.5e-14, so for a parameter at 0 (a fit's E or A on its
    /// bound) the difference is rounding noise; and it would not apply the projection.
    /// A non-finite entry is set to 0 so the damped step stays finite (the parameter holds still).
    /// </summary>
    private static Matrix<double> CentralDifferences(Func<double[], double[]> residuals, Func<double[], double[]> project, double[] theta, int n)
    {
        var j = Matrix<double>.Build.Dense(n, theta.Length);
        for (var a = 0; a < theta.Length; a++)
        {
            var h = 1e-6 * Math.Max(Math.Abs(theta[a]), 1e-3);
            var plus = (double[])theta.Clone();
            var minus = (double[])theta.Clone();
            plus[a] += h;
            minus[a] -= h;
            var rp = residuals(project(plus));
            var rm = residuals(project(minus));
            for (var i = 0; i < n; i++)
            {
                var d = (rp[i] - rm[i]) / (2 * h);
                j[i, a] = double.IsFinite(d) ? d : 0;
            }
        }
        return j;
    }
}
