namespace Generalist.Tokenizers;

/// <summary>
/// Continuous values to tokens and back (tokenizers/README.md):
/// observation values are always mu-law companded, y = sgn(x)·ln(|x|·μ + 1)/ln(M·μ + 1) with
/// μ = 100, M = 256, clipped to [-1, 1]; action values are declared in [-1, 1] by their
/// environment and are binned as they are. Bin = min(1023, floor((y + 1) / 2 · 1024)); the token
/// is the continuous offset + bin. Decoding returns the bin centre (bin + 0.5)/512 − 1, through
/// the inverse companding for observations.
/// </summary>
public static class ContinuousTokenizer
{
    public const float Mu = 100f;
    public const float M = 256f;
    public const int Bins = 1024;
    /// <summary>ln(M·μ + 1) = ln(25601).</summary>
    private static readonly float LogScale = MathF.Log(M * Mu + 1f);
    private static readonly float InvLogScale = 1f / LogScale;

    /// <summary>Mu-law companding, clipped to [-1, 1].</summary>
    public static float Compand(float x)
    {
        var y = MathF.Log(MathF.Abs(x) * Mu + 1f) * InvLogScale;
        if (y > 1f) y = 1f;
        return x < 0 ? -y : y;
    }

    /// <summary>The inverse of <see cref="Compand"/> on [-1, 1]: x = sgn(y)·((Mμ + 1)^|y| − 1)/μ.</summary>
    public static float Expand(float y) =>
        MathF.Sign(y) * (MathF.Exp(MathF.Abs(y) * LogScale) - 1f) / Mu;

    /// <summary>The bin of a value in [-1, 1]: min(1023, floor((y + 1) / 2 · 1024)).</summary>
    public static int Bin(float y)
    {
        var b = (int)((y + 1f) * (Bins / 2f));
        return b >= Bins ? Bins - 1 : b < 0 ? 0 : b;
    }

    /// <summary>The centre of a bin in [-1, 1]: (bin + 0.5)/512 − 1.</summary>
    public static float BinCentre(int bin) => (bin + 0.5f) / (Bins / 2f) - 1f;

    /// <summary>Observation values to tokens (companded). NaN or infinity is an error naming the field.</summary>
    public static void EncodeObservation(ReadOnlySpan<float> values, Span<int> tokens, int continuousOffset, string field = "observation.continuous")
    {
        if (tokens.Length < values.Length) throw new ArgumentException("token span shorter than values", nameof(tokens));
        for (var i = 0; i < values.Length; i++)
        {
            var x = values[i];
            if (!float.IsFinite(x)) throw new ArgumentException($"{field}[{i}] must be a finite number (got {x})");
            tokens[i] = continuousOffset + Bin(Compand(x));
        }
    }

    /// <summary>Action values to tokens (not companded). Values outside [-1, 1] are an error naming the field.</summary>
    public static void EncodeAction(ReadOnlySpan<float> values, Span<int> tokens, int continuousOffset, string field = "action.continuous")
    {
        if (tokens.Length < values.Length) throw new ArgumentException("token span shorter than values", nameof(tokens));
        for (var i = 0; i < values.Length; i++)
        {
            var y = values[i];
            if (!(y >= -1f && y <= 1f)) throw new ArgumentException($"{field}[{i}] must be in [-1, 1] (got {y})");
            tokens[i] = continuousOffset + Bin(y);
        }
    }

    /// <summary>An observation token back to a value: the bin centre through the inverse companding.</summary>
    public static float DecodeObservation(int token, int continuousOffset) => Expand(BinCentre(CheckedBin(token, continuousOffset)));

    /// <summary>An action token back to a value in [-1, 1]: the bin centre.</summary>
    public static float DecodeAction(int token, int continuousOffset) => BinCentre(CheckedBin(token, continuousOffset));

    private static int CheckedBin(int token, int continuousOffset)
    {
        var bin = token - continuousOffset;
        if ((uint)bin >= Bins) throw new ArgumentOutOfRangeException(nameof(token), token, $"a continuous token must be in [{continuousOffset}, {continuousOffset + Bins})");
        return bin;
    }
}
