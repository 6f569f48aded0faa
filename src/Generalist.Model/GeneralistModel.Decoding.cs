using static TorchSharp.torch;

namespace Generalist.Model;

/// <summary>Incremental decoding with a <see cref="KvCache"/> (evaluation rollouts).</summary>
public static class GeneralistDecoding
{
    /// <summary>An empty cache for B sequences; slideSlack defaults to a quarter of the context.</summary>
    public static KvCache CreateCache(this GeneralistModel model, int batchSize, int? slideSlack = null) =>
        new(batchSize, model.Config.Layers, model.Config.ContextLength, slideSlack ?? model.Config.ContextLength / 4);

    /// <summary>Runs a prompt (B, n) into a new cache; returns the last position's logits (B, V) and the cache.</summary>
    public static (Tensor Logits, KvCache Cache) Prefill(this GeneralistModel model, ModelInputs inputs, int? slideSlack = null)
    {
        var cache = model.CreateCache(inputs.BatchSize, slideSlack);
        try
        {
            return (model.Extend(inputs, cache), cache);
        }
        catch
        {
            cache.Dispose();
            throw;
        }
    }

    /// <summary>One token per sequence: token and localPosition are (B); returns logits (B, V).</summary>
    public static Tensor DecodeStep(this GeneralistModel model, Tensor token, Tensor localPosition, KvCache cache)
    {
        using var inputs = ModelInputs.ForTokens(token, localPosition);
        return model.Extend(inputs, cache);
    }

    /// <summary>
    /// Appends n positions (any mix of tokens and patches, e.g. a whole observation) to every
    /// sequence of the cache. Returns the logits of the last position (B, V), or with
    /// allPositions those of every appended position still in the window (B, min(n, Capacity), V).
    /// Slides the window when the cache would overflow (see <see cref="KvCache"/>).
    /// </summary>
    public static Tensor Extend(this GeneralistModel model, ModelInputs chunk, KvCache cache, bool allPositions = false)
    {
        if (chunk.BatchSize != cache.BatchSize)
            throw new ArgumentException($"the chunk has {chunk.BatchSize} sequences but the cache holds {cache.BatchSize}.");
        if (model.training && model.Config.Dropout > 0)
            throw new InvalidOperationException("decoding with dropout active: call model.eval() before decoding.");
        using var _ = no_grad();
        var x = model.Embed(chunk);                                         // (B, n, C)
        var n = chunk.Length;
        int start;
        if (n >= cache.Capacity)
        {
            // A chunk as long as the window replaces everything: keep its last Capacity positions.
            cache.Dropped += cache.Length + (n - cache.Capacity);
            if (cache.Length > 0 || n > cache.Capacity) cache.Slides++;
            x = x.narrow(1, n - cache.Capacity, cache.Capacity);
            n = cache.Capacity;
            start = 0;
        }
        else if (cache.Length + n > cache.Capacity)
        {
            var keep = Math.Max(0, Math.Min(cache.Length, cache.Capacity - n - cache.SlideSlack));
            if (keep > 0) x = cat([cache.EmbeddingsFrom(cache.Length - keep), x], 1); // (B, keep + n, C)
            cache.Dropped += cache.Length - keep;
            cache.Slides++;
            start = 0;
        }
        else start = cache.Length;

        cache.WriteEmbeddings(start, x);
        var h = x;
        var blocks = model.Blocks;
        // Positions of the appended run: [start, start + its length). After a slide start is 0: the
        // window is re-encoded from position 0, as a full forward pass over it would be.
        var rope = RotaryPositions.For(model.Config, start, x.shape[1], x.device);
        for (var layer = 0; layer < blocks.Count; layer++) h = blocks[layer].ForwardCached(h, cache, layer, start, rope);
        cache.Length = start + (int)x.shape[1];
        var total = h.shape[1];
        h = allPositions ? h.narrow(1, total - n, n) : h.select(1, total - 1);  // (B, n, C) or (B, C)
        return model.Logits(model.FinalNorm.forward(h));
    }
}
