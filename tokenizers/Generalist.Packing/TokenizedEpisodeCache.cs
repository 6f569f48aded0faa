using Generalist.Episodes;
using Generalist.Tokenizers;

namespace Generalist.Packing;

/// <summary>
/// Tokenized episodes keyed by (task, episode), evicted first-in first-out beyond a byte budget.
/// Tokenizing is pure, so the cache never changes what the loader produces, only how fast.
/// </summary>
internal sealed class TokenizedEpisodeCache(long budgetBytes)
{
    private readonly Dictionary<(int Task, int Episode), TokenizedEpisode> _entries = [];
    private readonly Queue<(int Task, int Episode)> _order = new();
    private long _bytes;

    public int Count => _entries.Count;

    public TokenizedEpisode GetOrBuild(int task, int episode, Func<int, int, TokenizedEpisode> build)
    {
        if (_entries.TryGetValue((task, episode), out var hit)) return hit;
        var built = build(task, episode);
        var size = built.ApproximateBytes;
        if (size > budgetBytes) return built;
        while (_bytes + size > budgetBytes && _order.TryDequeue(out var old))
        {
            _bytes -= _entries[old].ApproximateBytes;
            _entries.Remove(old);
        }
        _entries[(task, episode)] = built;
        _order.Enqueue((task, episode));
        _bytes += size;
        return built;
    }
}
