using FsCheck.Xunit;

namespace Generalist.Tokenizers.Tests;

public class ContinuousTokenizerTests
{
    private const int Offset = 8192;
    private const float HalfBin = 1f / 1024f;

    [Property(MaxTest = 500, Replay = "(20261123,1)")]
    public bool Observation_round_trip_is_within_half_a_bin_in_companded_space(int mantissa, int exponent)
    {
        var x = (float)(mantissa / (double)int.MaxValue * Math.Pow(10, Math.Abs(exponent) % 7 - 3));
        var token = Encode(x);
        var decoded = ContinuousTokenizer.DecodeObservation(token, Offset);
        var y = ContinuousTokenizer.Compand(x);
        return Math.Abs(ContinuousTokenizer.Compand(decoded) - y) <= HalfBin + 1e-5f;
    }

    [Property(MaxTest = 500, Replay = "(7,3)")]
    public bool Bins_are_monotonic_in_x(float a, float b)
    {
        if (!float.IsFinite(a) || !float.IsFinite(b)) return true;
        var (lo, hi) = a <= b ? (a, b) : (b, a);
        return Encode(lo) <= Encode(hi);
    }

    [Fact]
    public void Bins_are_monotonic_on_a_dense_grid()
    {
        var previous = -1;
        for (var x = -300.0; x <= 300.0; x += 0.0137)
        {
            var token = Encode((float)x);
            Assert.True(token >= previous, $"bin decreased at x={x}");
            previous = token;
        }
    }

    [Theory]
    // x, expected bin: y = sgn(x) ln(|x|·100 + 1)/ln(25601); bin = min(1023, floor((y + 1)·512))
    [InlineData(0f, 512)]
    [InlineData(1f, 744)]     // y = ln(101)/ln(25601) = 0.45456
    [InlineData(-1f, 279)]    // y = -0.45456 -> floor(279.26)
    [InlineData(0.01f, 546)]  // y = ln(2)/ln(25601) = 0.06824
    [InlineData(256f, 1023)]  // y = 1 -> clamp
    [InlineData(1e6f, 1023)]  // clipped to 1
    [InlineData(-1e6f, 0)]
    public void Golden_observation_bins(float x, int bin) => Assert.Equal(Offset + bin, Encode(x));

    [Theory]
    [InlineData(-1f, 0)]
    [InlineData(0f, 512)]
    [InlineData(1f, 1023)]
    [InlineData(0.5f, 768)]
    [InlineData(-0.999f, 0)]
    public void Golden_action_bins_are_not_companded(float a, int bin)
    {
        Span<int> t = stackalloc int[1];
        ContinuousTokenizer.EncodeAction([a], t, Offset);
        Assert.Equal(Offset + bin, t[0]);
        Assert.Equal((bin + 0.5f) / 512f - 1f, ContinuousTokenizer.DecodeAction(t[0], Offset), 6);
    }

    [Property(MaxTest = 300, Replay = "(11,5)")]
    public bool Action_round_trip_is_within_half_a_bin(int n)
    {
        var a = (float)(n / (double)int.MaxValue);
        Span<int> t = stackalloc int[1];
        ContinuousTokenizer.EncodeAction([a], t, Offset);
        return Math.Abs(ContinuousTokenizer.DecodeAction(t[0], Offset) - a) <= HalfBin + 1e-6f;
    }

    [Fact]
    public void Expand_inverts_compand()
    {
        foreach (var x in new[] { -200f, -3.5f, -0.02f, 0f, 0.001f, 0.7f, 12f, 255f })
            Assert.Equal(x, ContinuousTokenizer.Expand(ContinuousTokenizer.Compand(x)), Math.Max(1e-4f, Math.Abs(x) * 1e-4f));
    }

    [Fact]
    public void Errors_name_the_field()
    {
        var tokens = new int[3];
        var e = Assert.Throws<ArgumentException>(() => ContinuousTokenizer.EncodeObservation([0f, float.NaN, 1f], tokens, Offset, "timesteps[2].observation.continuous"));
        Assert.Contains("timesteps[2].observation.continuous[1]", e.Message);
        e = Assert.Throws<ArgumentException>(() => ContinuousTokenizer.EncodeAction([0f, 1.5f], tokens, Offset));
        Assert.Contains("action.continuous[1] must be in [-1, 1]", e.Message);
        Assert.Throws<ArgumentOutOfRangeException>(() => ContinuousTokenizer.DecodeAction(Offset + 1024, Offset));
    }

    private static int Encode(float x)
    {
        Span<int> t = stackalloc int[1];
        ContinuousTokenizer.EncodeObservation([x], t, Offset);
        return t[0];
    }
}

public class DiscreteTokenizerTests
{
    [Property(MaxTest = 300, Replay = "(3,7)")]
    public bool In_range_values_round_trip_and_others_fail(int v)
    {
        var tokens = new int[1];
        if (v is >= 0 and < 1024)
        {
            DiscreteTokenizer.Encode([v], tokens, 9216);
            return tokens[0] == 9216 + v && DiscreteTokenizer.Decode(tokens[0], 9216) == v;
        }
        var e = Assert.Throws<ArgumentException>(() => DiscreteTokenizer.Encode([v], tokens, 9216, "action.discrete"));
        return e.Message.Contains("action.discrete[0] must be in [0, 1024)");
    }
}
