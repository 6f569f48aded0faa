using static TorchSharp.torch;

namespace Generalist.Model;

/// <summary>
/// Keys and values of the positions seen so far, for decoding B sequences one step at a time.
/// The B sequences advance together (every call appends the same number of positions to each).
///
/// Sliding window: the model has no absolute positions (only learned local observation
/// positions, as Gato, and optionally rotary positions, which are relative), so any run of
/// consecutive positions is a valid input. When appending
/// would pass <see cref="Capacity"/> (the context length), the oldest positions are dropped and
/// the kept ones are re-encoded from their stored input embeddings, so the logits are exactly
/// those of a full forward pass over the window. To amortize that re-encoding, a slide drops
/// <see cref="SlideSlack"/> extra positions (default a quarter of the context).
/// The cache owns its tensors (they live outside any dispose scope): dispose it.
/// </summary>
public sealed class KvCache : IDisposable
{
    private readonly Tensor?[] _keys;    // per layer (B, H, Capacity, hd), allocated on first write
    private readonly Tensor?[] _values;  // per layer (B, H, Capacity, hd)
    private Tensor? _embeddings;         // (B, Capacity, C) the block-0 inputs, for re-encoding on a slide

    public KvCache(int batchSize, int layers, int capacity, int slideSlack)
    {
        if (batchSize < 1) throw new ArgumentException($"batch size ({batchSize}) must be at least 1.");
        if (capacity < 2) throw new ArgumentException($"capacity ({capacity}) must be at least 2.");
        if (slideSlack < 0 || slideSlack >= capacity)
            throw new ArgumentException($"slide slack ({slideSlack}) must be in [0, {capacity}).");
        BatchSize = batchSize;
        Capacity = capacity;
        SlideSlack = slideSlack;
        _keys = new Tensor?[layers];
        _values = new Tensor?[layers];
    }

    public int BatchSize { get; }
    /// <summary>Most positions held: the model's context length.</summary>
    public int Capacity { get; }
    /// <summary>Extra positions dropped on each slide so that re-encoding happens rarely.</summary>
    public int SlideSlack { get; }
    /// <summary>Positions held now (the same for every sequence).</summary>
    public int Length { get; internal set; }
    /// <summary>Positions dropped off the front by slides so far.</summary>
    public long Dropped { get; internal set; }
    /// <summary>How many times the window slid (and the kept positions were re-encoded).</summary>
    public int Slides { get; internal set; }

    /// <summary>Writes k and v (B, H, n, hd) at [start, start + n); returns views of [0, start + n).</summary>
    internal (Tensor Keys, Tensor Values) Write(int layer, int start, Tensor k, Tensor v)
    {
        var n = k.shape[2];
        var keys = _keys[layer] ??= Allocate([k.shape[0], k.shape[1], Capacity, k.shape[3]], k);
        var values = _values[layer] ??= Allocate([v.shape[0], v.shape[1], Capacity, v.shape[3]], v);
        keys.narrow(2, start, n).copy_(k);
        values.narrow(2, start, n).copy_(v);
        return (keys.narrow(2, 0, start + n), values.narrow(2, 0, start + n));
    }

    /// <summary>Stores the block-0 inputs x (B, n, C) at [start, start + n).</summary>
    internal void WriteEmbeddings(int start, Tensor x)
    {
        _embeddings ??= Allocate([x.shape[0], Capacity, x.shape[2]], x);
        _embeddings.narrow(1, start, x.shape[1]).copy_(x);
    }

    /// <summary>A copy of the stored block-0 inputs of positions [from, Length): (B, Length - from, C).</summary>
    internal Tensor EmbeddingsFrom(int from) =>
        _embeddings is null || from >= Length
            ? throw new InvalidOperationException("no stored embeddings to keep")
            : _embeddings.narrow(1, from, Length - from).clone();

    private static Tensor Allocate(long[] shape, Tensor like)
    {
        var t = zeros(shape, like.dtype, like.device);
        t.DetachFromDisposeScope();
        return t;
    }

    public void Dispose()
    {
        foreach (var t in _keys) t?.Dispose();
        foreach (var t in _values) t?.Dispose();
        _embeddings?.Dispose();
        Array.Clear(_keys);
        Array.Clear(_values);
        _embeddings = null;
    }
}
