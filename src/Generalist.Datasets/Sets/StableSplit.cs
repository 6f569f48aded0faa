using System.Text;

namespace Generalist.Datasets.Sets;

/// <summary>
/// Assigns items to the held-out split by a stable hash of a key (document name, emoji name, user id,
/// level file). FNV-1a 64 over UTF-8, not string.GetHashCode, which is randomised per process:
/// the split must be the same on every machine and every run.
/// </summary>
public static class StableSplit
{
    /// <summary>Percent of keys held out by default (one in ten).</summary>
    public const int DefaultHeldOutPercent = 10;

    public static ulong Hash(string key)
    {
        var hash = 14695981039346656037UL;
        foreach (var b in Encoding.UTF8.GetBytes(key))
        {
            hash ^= b;
            hash *= 1099511628211UL;
        }
        // FNV's low bits mix poorly for short keys; fold the high half in before taking a modulus.
        return hash ^ (hash >> 29);
    }

    public static bool IsHeldOut(string key, int heldOutPercent = DefaultHeldOutPercent) => (int)(Hash(key) % 100) < heldOutPercent;

    /// <summary>Splits items by key; if either side would be empty (tiny inputs), the last item is moved so both have one.</summary>
    public static (List<T> Train, List<T> HeldOut) Partition<T>(IReadOnlyList<T> items, Func<T, string> key, int heldOutPercent = DefaultHeldOutPercent)
    {
        var train = new List<T>();
        var heldOut = new List<T>();
        foreach (var item in items) (IsHeldOut(key(item), heldOutPercent) ? heldOut : train).Add(item);
        if (items.Count >= 2 && heldOut.Count == 0) { heldOut.Add(train[^1]); train.RemoveAt(train.Count - 1); }
        if (items.Count >= 2 && train.Count == 0) { train.Add(heldOut[^1]); heldOut.RemoveAt(heldOut.Count - 1); }
        return (train, heldOut);
    }
}
