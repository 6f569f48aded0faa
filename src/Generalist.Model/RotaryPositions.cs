using Generalist.Torch;
using static TorchSharp.torch;

namespace Generalist.Model;

/// <summary>
/// Rotary position embedding (RoFormer, Su et al. 2021) for a run of consecutive positions
/// [start, start + length): each pair (i, i + hd/2) of a query or key channel is rotated by the
/// angle position · base^(-2i/hd). The score q·k then depends only on the distance between the two
/// positions, which is why the KV cache may re-encode a slid window from position 0 and still give
/// exactly the logits of a full forward pass over that window.
/// The tables are (length, hd/2) fp32 tensors; they are small and built per forward call, so they
/// are always on the device and in the scope of the call that uses them.
/// </summary>
public sealed class RotaryPositions
{
    private readonly Tensor _cos; // (length, hd/2)
    private readonly Tensor _sin; // (length, hd/2)

    private RotaryPositions(Tensor cos, Tensor sin)
    {
        _cos = cos;
        _sin = sin;
    }

    /// <summary>The tables of positions [start, start + length), or null when the config has no rotary positions.</summary>
    public static RotaryPositions? For(ModelConfig config, long start, long length, Device device)
    {
        if (config.AttentionPositions != AttentionPositionKind.Rope) return null;
        var half = config.HeadDim / 2;
        // Frequencies in float64 then fp32, so long contexts keep accurate angles.
        var inverse = (arange(Scalars.Of(0), Scalars.Of(half), ScalarType.Float64, device) * Scalars.Of(-Math.Log(config.RopeBase) / half)).exp(); // (hd/2) base^(-2i/hd)
        var positions = arange(Scalars.Of(start), Scalars.Of(start + length), ScalarType.Float64, device); // (length)
        var angles = outer(positions, inverse);                                                  // (length, hd/2)
        return new RotaryPositions(angles.cos().to(ScalarType.Float32), angles.sin().to(ScalarType.Float32));
    }

    /// <summary>x (B, H, T, hd) -> the same shape, rotated; T must equal the table's length.</summary>
    public Tensor Apply(Tensor x)
    {
        var half = x.shape[3] / 2;
        var cos = _cos.to(x.dtype);                         // (T, hd/2), broadcast over B and H
        var sin = _sin.to(x.dtype);
        var x1 = x.narrow(3, 0, half);
        var x2 = x.narrow(3, half, half);
        return cat([x1 * cos - x2 * sin, x1 * sin + x2 * cos], 3);
    }
}
