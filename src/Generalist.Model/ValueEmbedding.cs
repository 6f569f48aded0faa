using Generalist.Torch;
using TorchSharp;
using TorchSharp.Modules;
using static TorchSharp.torch;

namespace Generalist.Model;

/// <summary>
/// The Fourier value embedding (beyond Gato): every continuous-value token (an observation value or
/// a continuous action fed back as history) adds W · φ(y) to its embedding row, where y in [-1, 1]
/// is its bin centre in companded space and φ(y) = [y, sin(kπy), cos(kπy)] for k = 1..K.
/// Gato's independent rows stay (the head is tied to them, so targets are unchanged); this adds
/// what an independent row cannot know: that bin 511 lies between bins 510 and 512. Other tokens
/// get φ = 0, so they are untouched.
/// Checkpoint key: `value_embedding.proj.weight` (C, 2K + 1).
/// </summary>
public sealed class ValueEmbedding : nn.Module<Tensor, Tensor>
{
    private readonly Linear proj; // (2K + 1) -> (C), no bias: φ = 0 must add nothing
    private readonly int _offset;
    private readonly int _bins;
    private readonly int _frequencies;

    public ValueEmbedding(ModelConfig config) : base(nameof(ValueEmbedding))
    {
        _offset = config.ContinuousOffset;
        _bins = config.ContinuousBins;
        _frequencies = config.ValueFrequencies;
        proj = nn.Linear(FeatureCount(config), config.ModelDim, hasBias: false);
        RegisterComponents();
    }

    /// <summary>Length of φ: y plus a sine and a cosine per frequency.</summary>
    public static int FeatureCount(ModelConfig config) => 2 * config.ValueFrequencies + 1;

    /// <summary>The table (V, C) with W·φ added to its bin rows: what the tied head scores against
    /// when <see cref="ModelConfig.ValueHead"/> is on (a vocabulary without the bin range is returned as is).</summary>
    public Tensor AddToRows(Tensor table)
    {
        if (_offset + _bins > table.shape[0]) return table;
        using var scope = NewDisposeScope();
        var bins = arange(Scalars.Of(_offset), Scalars.Of(_offset + _bins), ScalarType.Int64, table.device).unsqueeze(0); // (1, bins)
        var rows = forward(bins).squeeze(0).to(table.dtype);                                      // (bins, C)
        var parts = new List<Tensor> { table.narrow(0, 0, _offset), table.narrow(0, _offset, _bins) + rows };
        var rest = table.shape[0] - _offset - _bins;
        if (rest > 0) parts.Add(table.narrow(0, _offset + _bins, rest));
        return cat(parts, 0).MoveToOuterDisposeScope();
    }

    /// <summary>tokens (B, T) int64 -> (B, T, C); zero rows for tokens that are not values.</summary>
    public override Tensor forward(Tensor tokens)
    {
        using var scope = NewDisposeScope();
        var bin = tokens - Scalars.Of(_offset);                                           // (B, T)
        var isValue = bin.ge(Scalars.Of(0)).logical_and(bin.lt(Scalars.Of(_bins))).unsqueeze(-1).to(ScalarType.Float32); // (B, T, 1)
        // The bin centre exactly as ContinuousTokenizer.BinCentre: (bin + 0.5) / (bins / 2) - 1.
        var y = ((bin.to(ScalarType.Float32) + Scalars.Of(0.5)) / Scalars.Of(_bins / 2.0) - Scalars.Of(1.0)).unsqueeze(-1); // (B, T, 1)
        var k = arange(Scalars.Of(1), Scalars.Of(_frequencies + 1), ScalarType.Float32, tokens.device) * Scalars.Of(Math.PI); // (K)
        var angles = y * k;                                                               // (B, T, K)
        var features = cat([y, angles.sin(), angles.cos()], -1) * isValue;                // (B, T, 2K + 1)
        return proj.forward(features).MoveToOuterDisposeScope();                          // (B, T, C)
    }
}
