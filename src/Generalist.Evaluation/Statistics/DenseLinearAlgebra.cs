using MathNet.Numerics.LinearAlgebra;
using MathNet.Numerics.LinearAlgebra.Factorization;

namespace Generalist.Evaluation.Statistics;

/// <summary>
/// Small dense linear algebra for the baselines and fitters (systems of at most a few hundred
/// unknowns), on MathNet.Numerics' managed SVD and Cholesky. The callers hold plain arrays, so
/// these wrappers keep that shape and add the two rules MathNet leaves to its caller: which
/// singular values count as zero, and what a failed factorization returns.
/// </summary>
public static class DenseLinearAlgebra
{
    /// <summary>
    /// Minimum-norm least-squares solution of X w = y through the pseudo-inverse (exact when X has
    /// full column rank and the data are noiseless; the smallest-norm interpolant when k &lt; d).
    /// With ridge &gt; 0 it returns the ridge solution (X^T X + ridge I)^-1 X^T y instead.
    /// </summary>
    public static double[] LeastSquares(double[,] x, double[] y, double ridge = 0)
    {
        int m = x.GetLength(0), n = x.GetLength(1);
        if (y.Length != m) throw new ArgumentException($"y has {y.Length} rows, X has {m}");
        if (ridge < 0) throw new ArgumentException("ridge must be >= 0");
        if (m == 0 || n == 0) return new double[n]; // MathNet has no empty matrices; no data fits w = 0
        // MathNet's Svd().Solve divides by every non-zero singular value, so a rank-deficient X (fewer
        // examples than dimensions) would blow up on rounding-level values; the pseudo-inverse is
        // built here from the factors with the usual relative cut-off, and the ridge from the same factors.
        var svd = Matrix<double>.Build.DenseOfArray(x).Svd(computeVectors: true);
        var s = svd.S;
        var maxS = s.Count == 0 ? 0 : s.Maximum();
        var tolerance = Math.Max(m, n) * 1e-13 * maxS;
        var yv = Vector<double>.Build.DenseOfArray(y);
        var w = Vector<double>.Build.Dense(n);
        for (var j = 0; j < s.Count; j++)
        {
            double factor;
            if (ridge > 0) factor = s[j] / (s[j] * s[j] + ridge);
            else if (s[j] > tolerance) factor = 1 / s[j];
            else continue;
            var uty = svd.U.Column(j).DotProduct(yv);
            w += svd.VT.Row(j) * (factor * uty);
        }
        return w.ToArray();
    }

    /// <summary>Solves the symmetric positive definite system A x = b by Cholesky; null when A is not positive definite.</summary>
    public static double[]? SolveCholesky(double[,] a, double[] b)
    {
        Cholesky<double> factor;
        try
        {
            factor = Matrix<double>.Build.DenseOfArray(a).Cholesky();
        }
        catch (ArgumentException)
        {
            return null; // MathNet's word for "not positive definite" (a pivot <= 0 or NaN)
        }
        // An infinite pivot passes MathNet's check but leaves NaN in the factor: not a usable system either.
        if (factor.Factor.Diagonal().Any(v => !double.IsFinite(v))) return null;
        return factor.Solve(Vector<double>.Build.DenseOfArray(b)).ToArray();
    }

    /// <summary>
    /// Dot product of two spans. Kept as a loop: the callers hold spans and plain arrays in their
    /// per-row loops, and MathNet's DotProduct would need a vector wrapper around each.
    /// </summary>
    public static double Dot(ReadOnlySpan<double> a, ReadOnlySpan<double> b)
    {
        double s = 0;
        for (var i = 0; i < a.Length; i++) s += a[i] * b[i];
        return s;
    }
}
