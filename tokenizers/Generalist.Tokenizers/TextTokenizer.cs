using System.Collections.Concurrent;
using Microsoft.ML.Tokenizers;

namespace Generalist.Tokenizers;

/// <summary>
/// Text to token ids [0, VocabSize) with the project's SentencePiece BPE model
/// (tokenizers/text/generalist-8k.model, embedded in this assembly; see tokenizers/text/README.md).
/// No begin/end-of-sentence ids are added: episode boundaries have their own token.
/// Thread-safe: the underlying tokenizer is immutable.
/// </summary>
public sealed class TextTokenizer
{
    public const string EmbeddedModelName = "Generalist.Tokenizers.text.generalist-8k.model";
    private static readonly Lazy<TextTokenizer> DefaultInstance = new(LoadDefault);
    private readonly SentencePieceTokenizer _tokenizer;
    private readonly string[] _pieces;

    public static TextTokenizer Default => DefaultInstance.Value;

    /// <summary>Number of pieces of the model; equals VocabularyLayout.TextVocabSize for the default model.</summary>
    public int VocabSize { get; }

    private TextTokenizer(SentencePieceTokenizer tokenizer)
    {
        _tokenizer = tokenizer;
        VocabSize = tokenizer.Vocabulary.Count;
        _pieces = new string[VocabSize];
        foreach (var (piece, id) in tokenizer.Vocabulary)
            if ((uint)id < (uint)VocabSize)
                _pieces[id] = piece;
        // The hand-written word encoder needs byte fallback with the 256 byte pieces in order.
        if (tokenizer.ByteFallback && tokenizer.Vocabulary.TryGetValue("<0x00>", out var byteBase)
            && tokenizer.Vocabulary.TryGetValue("<0xFF>", out var byteLast) && byteLast == byteBase + 255)
        {
            var excluded = new HashSet<int>(Enumerable.Range(byteBase, 256)) { tokenizer.UnknownId, tokenizer.BeginningOfSentenceId, tokenizer.EndOfSentenceId };
            _bpe = new BpeWordEncoder(tokenizer.Vocabulary, excluded, byteBase);
        }
    }

    /// <summary>Loads a SentencePiece BPE model (identity normalization, byte fallback) from a stream.</summary>
    public static TextTokenizer Load(Stream model) => new(LlamaTokenizer.Create(model, addBeginOfSentence: false, addEndOfSentence: false));

    public static TextTokenizer Load(string path)
    {
        using var stream = File.OpenRead(path);
        return Load(stream);
    }

    /// <summary>A new instance of the embedded model (its own, empty word cache); <see cref="Default"/> is shared.</summary>
    public static TextTokenizer LoadDefault()
    {
        using var stream = typeof(TextTokenizer).Assembly.GetManifestResourceStream(EmbeddedModelName)
            ?? throw new InvalidOperationException($"embedded text tokenizer model {EmbeddedModelName} is missing from the assembly");
        return Load(stream);
    }

    /// <summary>
    /// Encodes text exactly as SentencePiece does, faster: the model (identity normalization,
    /// dummy prefix, spaces escaped to '▁', split before every '▁') never merges across a '▁'
    /// boundary, so the ids of a text are the concatenation of the ids of its '▁'-words. Each word
    /// is encoded by the library once (its cost grows faster than linearly with the input length,
    /// so words are also much cheaper than whole lines) and remembered in a bounded cache. Tests
    /// check the result equals the library's whole-text encoding on the whole corpus.
    /// </summary>
    public int[] Encode(string text)
    {
        ArgumentNullException.ThrowIfNull(text);
        if (text.Length == 0) return [];
        var escaped = text.Length < 4096 ? stackalloc char[text.Length + 1] : new char[text.Length + 1];
        escaped[0] = Space;
        text.AsSpan().Replace(escaped[1..], ' ', Space);
        var lookup = _words.GetAlternateLookup<ReadOnlySpan<char>>();
        var ids = new List<int>(text.Length / 3 + 4);
        var start = 0;
        for (var i = 1; i <= escaped.Length; i++)
        {
            if (i < escaped.Length && escaped[i] != Space) continue;
            var word = escaped[start..i];
            start = i;
            if (lookup.TryGetValue(word, out var cached))
            {
                ids.AddRange(cached);
                continue;
            }
            var before = ids.Count;
            if (_bpe is not null && word.Length <= BpeWordEncoder.MaxWordLength)
            {
                _bpe.Encode(word, ids);
            }
            else
            {
                var encoded = _tokenizer.EncodeToIds(word.ToString(), addBeginningOfSentence: false, addEndOfSentence: false, considerPreTokenization: false, considerNormalization: false);
                for (var k = 0; k < encoded.Count; k++) ids.Add(encoded[k]);
            }
            if (word.Length <= MaxCachedWordLength && _cachedWords < MaxCachedWords && _words.TryAdd(word.ToString(), ids.GetRange(before, ids.Count - before).ToArray()))
                Interlocked.Increment(ref _cachedWords);
        }
        return ids.ToArray();
    }

    /// <summary>The library's own whole-text encoding (the reference <see cref="Encode"/> must equal).</summary>
    public int[] EncodeWithoutWordCache(string text)
    {
        ArgumentNullException.ThrowIfNull(text);
        if (text.Length == 0) return [];
        var ids = _tokenizer.EncodeToIds(text, addBeginningOfSentence: false, addEndOfSentence: false);
        var result = new int[ids.Count];
        for (var i = 0; i < result.Length; i++) result[i] = ids[i];
        return result;
    }

    private const char Space = '\u2581';
    private const int MaxCachedWordLength = 48;
    private const int MaxCachedWords = 1 << 18;
    private readonly ConcurrentDictionary<string, int[]> _words = new(StringComparer.Ordinal);
    private int _cachedWords;
    private readonly BpeWordEncoder? _bpe;

    public string Decode(ReadOnlySpan<int> ids)
    {
        for (var i = 0; i < ids.Length; i++)
            if ((uint)ids[i] >= (uint)VocabSize)
                throw new ArgumentOutOfRangeException(nameof(ids), ids[i], $"text token {i} must be in [0, {VocabSize})");
        return _tokenizer.Decode(ids.ToArray(), considerSpecialTokens: false);
    }

    /// <summary>The model's piece for one id, for readable tables ("▁whale", "&lt;0x0A&gt;").</summary>
    public string Piece(int id) =>
        (uint)id < (uint)VocabSize ? _pieces[id] ?? "" : throw new ArgumentOutOfRangeException(nameof(id), id, $"must be in [0, {VocabSize})");
}
