using static TorchSharp.torch;

namespace Generalist.Model.Tests;

/// <summary>The activation capture API returns the streams the forward pass computes, one per layer.</summary>
public class ActivationCaptureTests
{
    [Fact]
    public void The_last_residual_stream_through_the_head_is_the_forward_pass_and_every_block_changes_the_stream()
    {
        using var scope = NewDisposeScope();
        var config = SyntheticBatches.SmallConfig(layers: 3);
        using var model = new GeneralistModel(config, seed: 5);
        model.eval();
        var batch = SyntheticBatches.Create(config, 2, config.ContextLength, seed: 3);
        using var inputs = batch.Slice(0, config.ContextLength, config);
        using var _ = no_grad();
        var streams = model.ResidualStreams(inputs);
        Assert.Equal(config.Layers + 1, streams.Count);
        Assert.All(streams, s => Assert.Equal(new long[] { 2, config.ContextLength, config.ModelDim }, s.shape));
        var logits = model.forward(inputs);
        Assert.True((logits - model.LogitsFromResidual(streams[^1])).abs().max().item<float>() < 1e-5);
        for (var l = 1; l < streams.Count; l++)
            Assert.True((streams[l] - streams[l - 1]).abs().max().item<float>() > 1e-4, $"block {l} left the stream unchanged");
    }
}
