using Generalist.Tokenizers;

namespace Generalist.Evaluation.Scoring;

/// <summary>How a continuous action value is read from the model's distribution over the 1024 bins.</summary>
public enum ContinuousDecoding
{
    /// <summary>The most likely bin's centre (Gato's argmax).</summary>
    Mode,
    /// <summary>The expected value Σ p_i · centre_i: the squared-error-optimal point estimate, and not tied to one bin.</summary>
    Expected,
    /// <summary>The mode of the distribution smoothed by a small Gaussian over neighbouring bins: the densest region, not a lone spike.</summary>
    Smoothed,
}

/// <summary>
/// Point estimates of a continuous action from bin probabilities (pure, so each mode is tested on a
/// synthetic distribution). The value goes to the environment; its bin is the token appended to
/// the sequence, so the model always reads back a valid bin token.
/// </summary>
public static class ContinuousActionDecoder
{
    /// <summary>Gaussian width of <see cref="ContinuousDecoding.Smoothed"/> in bins: 8 bins ≈ 0.016 action units, far below the agreement tolerance.</summary>
    public const double DefaultSmoothingBins = 8;

    public static IReadOnlyList<string> Names { get; } = ["mode", "expected", "smoothed"];

    public static string Name(ContinuousDecoding decoding) => Names[(int)decoding];

    public static ContinuousDecoding Parse(string name)
    {
        var i = Names.ToList().IndexOf(name);
        return i >= 0 ? (ContinuousDecoding)i : throw new ArgumentException($"continuous-decoding: must be one of {string.Join(", ", Names)} (got '{name}')");
    }

    /// <summary>The decoded value in [-1, 1] of one action dimension; probabilities sum to 1 over the bins.</summary>
    public static float Decode(ReadOnlySpan<float> probabilities, ContinuousDecoding decoding, double smoothingBins = DefaultSmoothingBins) => decoding switch
    {
        ContinuousDecoding.Mode => ContinuousTokenizer.BinCentre(ArgMax(probabilities)),
        ContinuousDecoding.Expected => Expected(probabilities),
        _ => ContinuousTokenizer.BinCentre(ArgMax(Smooth(probabilities, smoothingBins))),
    };

    private static float Expected(ReadOnlySpan<float> p)
    {
        double sum = 0, mass = 0;
        for (var i = 0; i < p.Length; i++) { sum += p[i] * ContinuousTokenizer.BinCentre(i); mass += p[i]; }
        // Dividing by the mass guards against float rounding in the softmax; the clamp keeps the value a valid action.
        return (float)Math.Clamp(sum / mass, -1, 1);
    }

    /// <summary>
    /// p convolved with a Gaussian of width sigma bins (truncated at 3 sigma). Each output is
    /// divided by the kernel mass inside [0, bins), so edge bins — where saturating experts put
    /// their actions — are not penalised for the part of the kernel that falls off the range.
    /// </summary>
    public static float[] Smooth(ReadOnlySpan<float> p, double sigma)
    {
        if (!(sigma > 0)) throw new ArgumentException($"smoothing width must be > 0 bins (got {sigma})");
        var radius = (int)Math.Ceiling(3 * sigma);
        var kernel = Enumerable.Range(-radius, 2 * radius + 1).Select(d => Math.Exp(-0.5 * d * d / (sigma * sigma))).ToArray();
        var result = new float[p.Length];
        for (var i = 0; i < p.Length; i++)
        {
            double sum = 0, weight = 0;
            for (var j = Math.Max(0, i - radius); j <= Math.Min(p.Length - 1, i + radius); j++)
            {
                sum += kernel[j - i + radius] * p[j];
                weight += kernel[j - i + radius];
            }
            result[i] = (float)(sum / weight);
        }
        return result;
    }

    /// <summary>The first index of the largest value (ties go to the lower bin).</summary>
    public static int ArgMax(ReadOnlySpan<float> values)
    {
        var best = 0;
        for (var i = 1; i < values.Length; i++) if (values[i] > values[best]) best = i;
        return best;
    }
}
