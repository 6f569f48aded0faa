namespace Generalist.Datasets.Sets;

/// <summary>Derives independent per-item seeds from (base seed, stream, index) with SplitMix64, so episode i is reproducible alone.</summary>
public static class SeedMixer
{
    public static ulong Mix(long seed, ulong stream, long index)
    {
        var z = unchecked((ulong)seed * 0x9E3779B97F4A7C15UL + stream * 0xBF58476D1CE4E5B9UL + (ulong)index * 0x94D049BB133111EBUL);
        z = (z ^ (z >> 30)) * 0xBF58476D1CE4E5B9UL;
        z = (z ^ (z >> 27)) * 0x94D049BB133111EBUL;
        return z ^ (z >> 31);
    }

    /// <summary>A System.Random seeded from the mixed value (its seeded algorithm is stable across .NET versions).</summary>
    public static Random Random(long seed, ulong stream, long index) => new((int)(Mix(seed, stream, index) & 0x7FFFFFFF));

    /// <summary>A standard normal sample (Box-Muller).</summary>
    public static double NextGaussian(this Random random)
    {
        var u1 = 1.0 - random.NextDouble(); // (0, 1]: log is finite
        var u2 = random.NextDouble();
        return Math.Sqrt(-2.0 * Math.Log(u1)) * Math.Cos(2.0 * Math.PI * u2);
    }
}
