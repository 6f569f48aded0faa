using static TorchSharp.torch;

namespace Generalist.Model;

/// <summary>
/// Activation capture, for probes (what a layer's residual stream linearly encodes) and other
/// interpretability tools: the same computation as <see cref="GeneralistModel.forward"/>, keeping
/// the residual stream after the embedding and after every block.
/// </summary>
public static class ActivationCapture
{
    /// <summary>
    /// Residual streams: element 0 is the block-0 input (embeddings), element l the output of block
    /// l (1..Layers); each (B, T, C). The last one, through the final norm and the head, gives the
    /// model's logits. The tensors belong to the caller's dispose scope.
    /// </summary>
    public static IReadOnlyList<Tensor> ResidualStreams(this GeneralistModel model, ModelInputs inputs)
    {
        GeneralistModel.CheckLength(inputs.Length, model.Config.ContextLength, "inputs length");
        var x = model.Embed(inputs);                                                        // (B, T, C)
        var rope = RotaryPositions.For(model.Config, 0, inputs.Length, x.device);
        var streams = new List<Tensor>(model.Blocks.Count + 1) { x };
        foreach (var block in model.Blocks)
        {
            x = block.Forward(x, rope);                                                     // (B, T, C)
            streams.Add(x);
        }
        return streams;
    }

    /// <summary>The model's logits from the last residual stream (the final norm, then the head): equal to forward's.</summary>
    public static Tensor LogitsFromResidual(this GeneralistModel model, Tensor residual) => model.Logits(model.FinalNorm.forward(residual));
}
