namespace Generalist.Envs;

/// <summary>
/// The environments' random numbers: SplitMix64, written here so that an episode under a given
/// seed is the same on every .NET version and platform (System.Random's seeded sequence is a
/// compatibility detail, not a promise).
/// </summary>
public sealed class EnvRandom(long seed)
{
    private ulong state = unchecked((ulong)seed);

    public ulong NextUInt64()
    {
        var z = state += 0x9E3779B97F4A7C15UL;
        z = (z ^ (z >> 30)) * 0xBF58476D1CE4E5B9UL;
        z = (z ^ (z >> 27)) * 0x94D049BB133111EBUL;
        return z ^ (z >> 31);
    }

    /// <summary>Uniform in [0, 1) with 53 random bits.</summary>
    public double NextDouble() => (NextUInt64() >> 11) * (1.0 / (1UL << 53));

    public double Uniform(double low, double high) => low + (high - low) * NextDouble();

    /// <summary>Standard normal (Box-Muller; two uniform draws per value, nothing cached).</summary>
    public double Gaussian()
    {
        var u1 = 1.0 - NextDouble(); // (0, 1]: the logarithm stays finite
        var u2 = NextDouble();
        return Math.Sqrt(-2.0 * Math.Log(u1)) * Math.Cos(2.0 * Math.PI * u2);
    }

    /// <summary>Uniform integer in [0, n); n must be positive.</summary>
    public int Next(int n)
    {
        ArgumentOutOfRangeException.ThrowIfNegativeOrZero(n);
        return (int)(NextUInt64() % (ulong)n); // bias below 2^-32 for the small n used here
    }

    /// <summary>A seed for a derived stream (e.g. episode i of a rollout), well mixed from (seed, index).</summary>
    public static long Derive(long seed, long index)
    {
        var r = new EnvRandom(seed ^ unchecked(index * (long)0x9E3779B97F4A7C15UL));
        return unchecked((long)r.NextUInt64());
    }
}
