namespace Generalist.Tokenizers;

/// <summary>Discrete values in [0, 1024) become the discrete offset + value.</summary>
public static class DiscreteTokenizer
{
    public const int Values = 1024;

    /// <summary>Values to tokens; a value outside [0, 1024) is an error naming the field and index.</summary>
    public static void Encode(ReadOnlySpan<int> values, Span<int> tokens, int discreteOffset, string field = "observation.discrete")
    {
        if (tokens.Length < values.Length) throw new ArgumentException("token span shorter than values", nameof(tokens));
        for (var i = 0; i < values.Length; i++)
        {
            var v = values[i];
            if ((uint)v >= Values) throw new ArgumentException($"{field}[{i}] must be in [0, {Values}) (got {v})");
            tokens[i] = discreteOffset + v;
        }
    }

    public static int Decode(int token, int discreteOffset)
    {
        var v = token - discreteOffset;
        if ((uint)v >= Values) throw new ArgumentOutOfRangeException(nameof(token), token, $"a discrete token must be in [{discreteOffset}, {discreteOffset + Values})");
        return v;
    }
}
