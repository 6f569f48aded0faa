using System.Text;

namespace Generalist.Tokenizers;

/// <summary>
/// SentencePiece BPE encoding of one '▁'-word, written here because the library's encoder costs
/// ~10 µs per new word on one core (the text benchmark's 5 MB/s needs less). The algorithm is
/// SentencePiece's: start from the word's code points, repeatedly merge the adjacent pair whose
/// concatenation is a piece with the best score (the lowest id: spm_train stores BPE pieces in
/// score order; among equal pairs the rightmost merges first, as Microsoft.ML.Tokenizers does), then map symbols to ids, with byte fallback
/// (&lt;0xXX&gt; pieces for each UTF-8 byte) for symbols that are not pieces. Tests check it
/// against the library on the whole corpus.
/// </summary>
internal sealed class BpeWordEncoder
{
    /// <summary>Longer words go to the library (this encoder is quadratic in the word length).</summary>
    public const int MaxWordLength = 64;

    private readonly Dictionary<string, int> _pieces;
    private readonly Dictionary<string, int>.AlternateLookup<ReadOnlySpan<char>> _lookup;
    private readonly int _byteBase;

    public BpeWordEncoder(IReadOnlyDictionary<string, int> vocabulary, IReadOnlySet<int> excludedIds, int byteBase)
    {
        _pieces = new Dictionary<string, int>(StringComparer.Ordinal);
        foreach (var (piece, id) in vocabulary)
            if (!excludedIds.Contains(id)) _pieces[piece] = id;
        _lookup = _pieces.GetAlternateLookup<ReadOnlySpan<char>>();
        _byteBase = byteBase;
    }

    public void Encode(ReadOnlySpan<char> word, List<int> ids)
    {
        // Symbols as [start, end) char ranges over the word, one per code point initially.
        if (word.Length > MaxWordLength) throw new ArgumentException($"word longer than {MaxWordLength} characters", nameof(word));
        Span<int> starts = stackalloc int[MaxWordLength + 1];
        var count = 0;
        for (var i = 0; i < word.Length; i++)
        {
            starts[count++] = i;
            if (char.IsHighSurrogate(word[i]) && i + 1 < word.Length && char.IsLowSurrogate(word[i + 1])) i++;
        }
        starts[count] = word.Length;

        while (count > 1)
        {
            var best = -1;
            var bestId = int.MaxValue;
            for (var s = 0; s + 1 < count; s++)
            {
                if (_lookup.TryGetValue(word[starts[s]..starts[s + 2]], out var id) && id <= bestId)
                {
                    bestId = id;
                    best = s;
                }
            }
            if (best < 0) break;
            // Merge symbols best and best + 1: drop the start of best + 1.
            for (var s = best + 1; s < count; s++) starts[s] = starts[s + 1];
            count--;
        }

        Span<byte> utf8 = stackalloc byte[4 * MaxWordLength];
        for (var s = 0; s < count; s++)
        {
            var symbol = word[starts[s]..starts[s + 1]];
            if (_lookup.TryGetValue(symbol, out var id))
            {
                ids.Add(id);
                continue;
            }
            var n = Encoding.UTF8.GetBytes(symbol, utf8);
            for (var b = 0; b < n; b++) ids.Add(_byteBase + utf8[b]);
        }
    }
}
