using TorchSharp;
using static TorchSharp.torch;

namespace Generalist.Model.Tests;

public class Bf16Tests
{
    [Fact]
    public void Forward_loss_backward_and_decoding_work_under_bf16_autocast()
    {
        using var scope = NewDisposeScope();
        var config = SyntheticBatches.SmallConfig();
        using var model = new GeneralistModel(config, seed: 51);
        var batch = SyntheticBatches.Create(config, batchSize: 2, length: 20, seed: 52);
        using var inputs = ModelInputs.From(batch, CPU, config);
        using var targets = LossTargets.From(batch, CPU);
        var fp32Loss = model.Loss(inputs, targets).Loss.item<float>();

        float bf16Loss;
        Tensor logits, decoded;
        using (new Bf16Autocast())
        {
            logits = model.forward(inputs);
            var output = model.Loss(inputs, targets);
            output.Loss.backward();
            bf16Loss = output.Loss.item<float>();
            using var prompt = batch.Slice(0, 10, config);
            var (last, cache) = model.Prefill(prompt);
            using var _ = cache;
            decoded = last;
        }
        // Autocast really ran the matmuls in bf16 (the patch block's GroupNorm among them), the
        // loss is computed in fp32 and stays close, and gradients reach fp32 weights.
        Assert.Equal(ScalarType.BFloat16, logits.dtype);
        Assert.True(logits.isfinite().all().item<bool>());
        Assert.True(Math.Abs(bf16Loss - fp32Loss) < 0.05, $"fp32 {fp32Loss}, bf16 {bf16Loss}");
        foreach (var (name, p) in model.named_parameters())
        {
            Assert.Equal(ScalarType.Float32, p.dtype);
            Assert.True(p.grad is null || p.grad.isfinite().all().item<bool>(), name);
        }
        Assert.NotNull(model.named_parameters().First(p => p.name == "patch_embedding.norm1.weight").parameter.grad);
        Assert.Equal([2L, config.VocabSize], decoded.shape);
        Assert.True(decoded.isfinite().all().item<bool>());
    }
}
