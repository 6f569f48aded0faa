namespace Generalist.Packing;

/// <summary>
/// SplitMix64 (Steele, Lea, Flood 2014), written here because System.Random offers no
/// counter-based streams: the loader derives an independent stream for every (seed, batch, row)
/// from the counter alone, so its whole state is the batch number.
/// </summary>
public struct SplitMix64(ulong state)
{
    private ulong _state = state;

    public static ulong Mix(ulong z)
    {
        z = (z ^ (z >> 30)) * 0xBF58476D1CE4E5B9UL;
        z = (z ^ (z >> 27)) * 0x94D049BB133111EBUL;
        return z ^ (z >> 31);
    }

    /// <summary>A stream for one (seed, a, b) triple.</summary>
    public static SplitMix64 For(long seed, long a, long b) =>
        new(Mix(Mix(Mix((ulong)seed + 0x9E3779B97F4A7C15UL) + (ulong)a) + 0xD1B54A32D192ED03UL * (ulong)(b + 1)));

    public ulong NextULong() => Mix(_state += 0x9E3779B97F4A7C15UL);

    /// <summary>Uniform in [0, 1).</summary>
    public double NextDouble() => (NextULong() >> 11) * (1.0 / (1UL << 53));

    /// <summary>Uniform in [0, n) (multiply-shift; bias below 2^-32).</summary>
    public int NextInt(int n)
    {
        if (n <= 0) throw new ArgumentOutOfRangeException(nameof(n), n, "must be positive");
        return (int)(((NextULong() >> 32) * (ulong)n) >> 32);
    }
}
