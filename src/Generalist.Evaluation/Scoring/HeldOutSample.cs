
using Generalist.Episodes;

namespace Generalist.Evaluation.Scoring;

/// <summary>Which held-out episodes an evaluation budget scores.</summary>
public static class HeldOutSample
{
    /// <summary>
    /// <paramref name="count"/> episodes evenly spaced over the whole source, not its first ones:
    /// held-out splits are stored in document (or level, or user) order, so a small budget taken from
    /// the front would score one document only (the first 8 text episodes are one address).
    /// Deterministic; the whole source, in order, when the budget covers it.
    /// </summary>
    public static List<Episode> Spread(IEpisodeSource source, int count)
    {
        var n = Math.Min(count, source.Count);
        return Enumerable.Range(0, n).Select(i => source.Get((int)((long)i * source.Count / n))).ToList();
    }
}
