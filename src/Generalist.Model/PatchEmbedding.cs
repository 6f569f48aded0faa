using TorchSharp;
using TorchSharp.Modules;
using static TorchSharp.torch;
using F = TorchSharp.torch.nn.functional;

namespace Generalist.Model;

/// <summary>
/// Embeds image patches as Gato does: each P x P x 3 patch goes through a single ResNet-v2
/// (pre-activation) block and is projected to the model width. The block:
///   h = conv_in(patch)                                      // (K, Cp, P, P), 3x3 stem
///   h = h + conv2(gelu(norm2(conv1(gelu(norm1(h))))))       // pre-activation residual unit
///   e = proj(flatten(gelu(norm_out(h))))                    // (K, C)
/// GroupNorm rather than BatchNorm (as Gato): patch statistics must not depend on the batch.
/// Row and column position embeddings are added by the model, not here.
/// </summary>
public sealed class PatchEmbedding : nn.Module<Tensor, Tensor>
{
    private readonly Conv2d conv_in;
    private readonly GroupNorm norm1;
    private readonly Conv2d conv1;
    private readonly GroupNorm norm2;
    private readonly Conv2d conv2;
    private readonly GroupNorm norm_out;
    private readonly Linear proj;
    private readonly int _channels;
    private readonly int _patchSize;

    public PatchEmbedding(ModelConfig config) : base(nameof(PatchEmbedding))
    {
        var c = config.PatchHiddenChannels;
        conv_in = nn.Conv2d(config.PatchChannels, c, kernel_size: 3, padding: 1);
        norm1 = nn.GroupNorm(ModelConfig.PatchNormGroups, c);
        conv1 = nn.Conv2d(c, c, kernel_size: 3, padding: 1);
        norm2 = nn.GroupNorm(ModelConfig.PatchNormGroups, c);
        conv2 = nn.Conv2d(c, c, kernel_size: 3, padding: 1);
        norm_out = nn.GroupNorm(ModelConfig.PatchNormGroups, c);
        proj = nn.Linear((long)c * config.PatchSize * config.PatchSize, config.ModelDim);
        _channels = config.PatchChannels;
        _patchSize = config.PatchSize;
        RegisterComponents();
    }

    internal IEnumerable<Conv2d> Convolutions => [conv_in, conv1, conv2];
    internal Conv2d ResidualConvolution => conv2;
    internal Linear Projection => proj;

    public override Tensor forward(Tensor patches) // (K, 3*P*P) pixels in [-1, 1] / sqrt(P)
    {
        var k = patches.shape[0];
        var image = patches.view(k, _channels, _patchSize, _patchSize);           // (K, 3, P, P)
        var h = conv_in.forward(image);                                            // (K, Cp, P, P)
        // Under bf16 autocast the convolutions run in bf16 and group_norm in fp32 (autocast's
        // lists cast their inputs), so this path needs no dtype handling of its own.
        var r = conv1.forward(Activate(norm1, h));
        r = conv2.forward(Activate(norm2, r));
        h = h + r;                                                                 // (K, Cp, P, P)
        return proj.forward(Activate(norm_out, h).flatten(1));                     // (K, C)
    }

    private static Tensor Activate(GroupNorm norm, Tensor x) => F.gelu(norm.forward(x));
}
