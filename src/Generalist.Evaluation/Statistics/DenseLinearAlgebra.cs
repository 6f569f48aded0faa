namespace Generalist.Evaluation.Statistics;

/// <summary>
/// Small dense linear algebra for the baselines and fitters (systems of at most a few dozen
/// unknowns). Written by hand because no package the registry holds for this project offers it
/// (TorchSharp would work but would tie the statistics to libtorch and its loader).
/// </summary>
public static class DenseLinearAlgebra
{
    /// <summary>Thin singular value decomposition A = U diag(S) V^T by one-sided Jacobi (Hestenes) rotations.</summary>
    public static (double[,] U, double[] S, double[,] V) Svd(double[,] a)
    {
        int m = a.GetLength(0), n = a.GetLength(1);
        if (m < n)
        {
            // Decompose the transpose and swap the factors: A^T = U' S V'^T  =>  A = V' S U'^T.
            var (ut, st, vt) = Svd(Transpose(a));
            return (vt, st, ut);
        }
        var u = (double[,])a.Clone();
        var v = Identity(n);
        const double eps = 1e-15;
        for (var sweep = 0; sweep < 100; sweep++)
        {
            var rotated = false;
            for (var p = 0; p < n - 1; p++)
            for (var q = p + 1; q < n; q++)
            {
                double alpha = 0, beta = 0, gamma = 0;
                for (var i = 0; i < m; i++)
                {
                    alpha += u[i, p] * u[i, p];
                    beta += u[i, q] * u[i, q];
                    gamma += u[i, p] * u[i, q];
                }
                if (Math.Abs(gamma) <= eps * Math.Sqrt(alpha * beta) || gamma == 0) continue;
                rotated = true;
                var zeta = (beta - alpha) / (2 * gamma);
                var t = Math.Sign(zeta == 0 ? 1 : zeta) / (Math.Abs(zeta) + Math.Sqrt(1 + zeta * zeta));
                var c = 1 / Math.Sqrt(1 + t * t);
                var s = c * t;
                for (var i = 0; i < m; i++)
                {
                    var up = u[i, p];
                    u[i, p] = c * up - s * u[i, q];
                    u[i, q] = s * up + c * u[i, q];
                }
                for (var i = 0; i < n; i++)
                {
                    var vp = v[i, p];
                    v[i, p] = c * vp - s * v[i, q];
                    v[i, q] = s * vp + c * v[i, q];
                }
            }
            if (!rotated) break;
        }
        var sv = new double[n];
        for (var j = 0; j < n; j++)
        {
            double norm = 0;
            for (var i = 0; i < m; i++) norm += u[i, j] * u[i, j];
            norm = Math.Sqrt(norm);
            sv[j] = norm;
            if (norm > 0) for (var i = 0; i < m; i++) u[i, j] /= norm;
        }
        return (u, sv, v);
    }

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
        var w = new double[n];
        if (m == 0) return w;
        var (u, s, v) = Svd(x);
        var maxS = s.Length == 0 ? 0 : s.Max();
        var tolerance = Math.Max(m, n) * 1e-13 * maxS;
        for (var j = 0; j < s.Length; j++)
        {
            double factor;
            if (ridge > 0) factor = s[j] / (s[j] * s[j] + ridge);
            else if (s[j] > tolerance) factor = 1 / s[j];
            else continue;
            double uty = 0;
            for (var i = 0; i < m; i++) uty += u[i, j] * y[i];
            for (var i = 0; i < n; i++) w[i] += v[i, j] * factor * uty;
        }
        return w;
    }

    /// <summary>Solves the symmetric positive definite system A x = b by Cholesky; null when A is not positive definite.</summary>
    public static double[]? SolveCholesky(double[,] a, double[] b)
    {
        var n = b.Length;
        var l = new double[n, n];
        for (var i = 0; i < n; i++)
        for (var j = 0; j <= i; j++)
        {
            var sum = a[i, j];
            for (var k = 0; k < j; k++) sum -= l[i, k] * l[j, k];
            if (i == j)
            {
                if (!(sum > 0) || !double.IsFinite(sum)) return null;
                l[i, i] = Math.Sqrt(sum);
            }
            else l[i, j] = sum / l[j, j];
        }
        var z = new double[n];
        for (var i = 0; i < n; i++)
        {
            var sum = b[i];
            for (var k = 0; k < i; k++) sum -= l[i, k] * z[k];
            z[i] = sum / l[i, i];
        }
        var x = new double[n];
        for (var i = n - 1; i >= 0; i--)
        {
            var sum = z[i];
            for (var k = i + 1; k < n; k++) sum -= l[k, i] * x[k];
            x[i] = sum / l[i, i];
        }
        return x;
    }

    public static double[,] Transpose(double[,] a)
    {
        int m = a.GetLength(0), n = a.GetLength(1);
        var t = new double[n, m];
        for (var i = 0; i < m; i++) for (var j = 0; j < n; j++) t[j, i] = a[i, j];
        return t;
    }

    public static double[,] Identity(int n)
    {
        var id = new double[n, n];
        for (var i = 0; i < n; i++) id[i, i] = 1;
        return id;
    }

    public static double Dot(ReadOnlySpan<double> a, ReadOnlySpan<double> b)
    {
        double s = 0;
        for (var i = 0; i < a.Length; i++) s += a[i] * b[i];
        return s;
    }
}
