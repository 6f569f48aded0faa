using Generalist.Torch;
using TorchSharp;
using TorchSharp.Modules;
using static TorchSharp.torch;
using F = TorchSharp.torch.nn.functional;

namespace Generalist.Model;

// The transformer, top-down as in nanoGPT: attention, MLP, block. Field names are checkpoint keys
// (e.g. `blocks.0.attention.qkv.weight`): renaming a field breaks every saved checkpoint.

/// <summary>Multi-head causal self-attention through libtorch's fused scaled_dot_product_attention.</summary>
public sealed class CausalSelfAttention : nn.Module<Tensor, Tensor>
{
    private readonly Linear qkv;   // (C) -> (3C): query, key and value of every head in one matmul
    private readonly Linear proj;  // (C) -> (C): the residual projection, initialised scaled down
    private readonly int _heads;
    private readonly double _dropout;

    public CausalSelfAttention(ModelConfig config) : base(nameof(CausalSelfAttention))
    {
        qkv = nn.Linear(config.ModelDim, 3L * config.ModelDim, hasBias: false);
        proj = nn.Linear(config.ModelDim, config.ModelDim, hasBias: false);
        _heads = config.Heads;
        _dropout = config.Dropout;
        RegisterComponents();
    }

    internal Linear Projection => proj;

    /// <summary>Training and full-sequence forward: every position attends to itself and earlier ones.</summary>
    public override Tensor forward(Tensor x) => Forward(x, null); // (B, T, C)

    /// <summary>The full-sequence forward with rotary positions 0..T-1 (null: none).</summary>
    internal Tensor Forward(Tensor x, RotaryPositions? rope) // (B, T, C)
    {
        var (q, k, v) = Split(x, rope);                                  // each (B, H, T, hd)
        var y = F.scaled_dot_product_attention(q, k, v, p: training ? _dropout : 0, is_casual: true);
        return Merge(y, x.shape);
    }

    /// <summary>
    /// Forward over n new positions that follow `start` cached ones: writes their keys and values
    /// into the cache at [start, start + n) and attends over [0, start + n).
    /// </summary>
    internal Tensor ForwardCached(Tensor x, KvCache cache, int layer, int start, RotaryPositions? rope) // (B, n, C)
    {
        // Keys are cached already rotated: rope holds positions [start, start + n).
        var (q, k, v) = Split(x, rope);                                  // each (B, H, n, hd)
        var n = (int)x.shape[1];
        var (keys, values) = cache.Write(layer, start, k, v);            // each (B, H, start + n, hd)
        Tensor y;
        if (start == 0) y = F.scaled_dot_product_attention(q, keys, values, is_casual: n > 1);
        else if (n == 1) y = F.scaled_dot_product_attention(q, keys, values);
        else
        {
            // SDPA's is_causal aligns the mask top-left; new queries sit at the bottom right of the
            // (n, start + n) score matrix, so the mask is written out: key j is visible to query i
            // exactly when j <= start + i.
            using var keyIndex = arange(Scalars.Of(start + n), ScalarType.Int64, x.device).unsqueeze(0);                  // (1, start + n)
            using var queryIndex = arange(Scalars.Of(start), Scalars.Of(start + n), ScalarType.Int64, x.device).unsqueeze(1); // (n, 1)
            using var mask = keyIndex.le(queryIndex);                                                  // (n, start + n)
            y = F.scaled_dot_product_attention(q, keys, values, attn_mask: mask);
        }
        return Merge(y, x.shape);
    }

    private (Tensor Q, Tensor K, Tensor V) Split(Tensor x, RotaryPositions? rope)
    {
        long b = x.shape[0], t = x.shape[1], c = x.shape[2];
        var parts = qkv.forward(x).split(c, dim: 2);                     // 3 x (B, T, C)
        Tensor Heads(Tensor part) => part.view(b, t, _heads, c / _heads).transpose(1, 2); // (B, H, T, hd)
        var (q, k) = (Heads(parts[0]), Heads(parts[1]));
        if (rope is not null) (q, k) = (rope.Apply(q), rope.Apply(k));
        return (q, k, Heads(parts[2]));
    }

    private Tensor Merge(Tensor y, long[] shape) // y: (B, H, T, hd)
    {
        var merged = y.transpose(1, 2).contiguous().view(shape[0], shape[1], shape[2]); // (B, T, C)
        return F.dropout(proj.forward(merged), _dropout, training);
    }
}

/// <summary>The position-wise MLP: Linear, GELU, Linear (4x wider in the middle by default).</summary>
public sealed class Mlp : nn.Module<Tensor, Tensor>
{
    private readonly Linear fc;    // (C) -> (MlpRatio * C)
    private readonly Linear proj;  // (MlpRatio * C) -> (C): residual projection
    private readonly double _dropout;

    public Mlp(ModelConfig config) : base(nameof(Mlp))
    {
        fc = nn.Linear(config.ModelDim, config.MlpDim, hasBias: false);
        proj = nn.Linear(config.MlpDim, config.ModelDim, hasBias: false);
        _dropout = config.Dropout;
        RegisterComponents();
    }

    internal Linear Projection => proj;

    public override Tensor forward(Tensor x) // (B, T, C)
    {
        using var hidden = F.gelu(fc.forward(x));                        // (B, T, 4C)
        return F.dropout(proj.forward(hidden), _dropout, training);       // (B, T, C)
    }
}

/// <summary>A pre-norm transformer block: x + attn(ln(x)), then x + mlp(ln(x)).</summary>
public sealed class Block : nn.Module<Tensor, Tensor>
{
    private readonly LayerNorm attention_norm;
    private readonly CausalSelfAttention attention;
    private readonly LayerNorm mlp_norm;
    private readonly Mlp mlp;

    public Block(ModelConfig config) : base(nameof(Block))
    {
        attention_norm = nn.LayerNorm(config.ModelDim);
        attention = new CausalSelfAttention(config);
        mlp_norm = nn.LayerNorm(config.ModelDim);
        mlp = new Mlp(config);
        RegisterComponents();
    }

    internal IEnumerable<Linear> ResidualProjections => [attention.Projection, mlp.Projection];

    public override Tensor forward(Tensor x) => Forward(x, null); // (B, T, C)

    internal Tensor Forward(Tensor x, RotaryPositions? rope) // (B, T, C)
    {
        var h = x + attention.Forward(attention_norm.forward(x), rope);
        return h + mlp.forward(mlp_norm.forward(h));
    }

    internal Tensor ForwardCached(Tensor x, KvCache cache, int layer, int start, RotaryPositions? rope) // (B, n, C)
    {
        var h = x + attention.ForwardCached(attention_norm.forward(x), cache, layer, start, rope);
        return h + mlp.forward(mlp_norm.forward(h));
    }
}
