using Generalist.Torch;
using TorchSharp;
using static TorchSharp.torch;

namespace Generalist.Training.Tests;

public class TorchBindingTests
{
    [Fact]
    public void Fused_adamw_matches_optim_adamw_to_1e_6()
    {
        using var fused = FusedAdamW.TryCreate();
        Assert.True(fused is not null, $"fused AdamW did not compile: {FusedAdamW.LastFailure}");
        using var scope = NewDisposeScope();
        manual_seed(3);
        var reference = new[] { new TorchSharp.Modules.Parameter(randn(16, 8)), new TorchSharp.Modules.Parameter(randn(8)) };
        var mine = reference.Select(p => p.detach().clone()).ToArray();
        var opt = optim.AdamW(reference, lr: 1e-2, beta1: 0.9, beta2: 0.95, eps: 1e-8, weight_decay: 0.1);
        var m = mine.Select(p => zeros_like(p)).ToArray();
        var v = mine.Select(p => zeros_like(p)).ToArray();
        var steps = mine.Select(_ => zeros(Array.Empty<long>(), ScalarType.Float32)).ToArray();
        var noInf = zeros(Array.Empty<long>(), ScalarType.Float32);
        for (var i = 0; i < 5; i++)
        {
            var grads = reference.Select(p => randn_like(p)).ToArray();
            for (var j = 0; j < reference.Length; j++) reference[j].grad = grads[j].clone();
            opt.step();
            fused.Step(mine, grads.Select(g => g.clone()).ToArray(), m, v, steps, 1e-2, 0.9, 0.95, 0.1, 1e-8, noInf);
        }
        for (var j = 0; j < mine.Length; j++)
            Assert.True(allclose(mine[j], reference[j].detach(), rtol: 0, atol: 1e-6), $"param {j} differs by {(mine[j] - reference[j]).abs().max().item<float>()}");
        Assert.Equal(5f, steps[0].item<float>());

        // found_inf = 1: nothing moves, the step counter does not advance.
        var before = mine.Select(p => p.clone()).ToArray();
        fused.Step(mine, mine.Select(p => randn_like(p)).ToArray(), m, v, steps, 1e-2, 0.9, 0.95, 0.1, 1e-8, ones(Array.Empty<long>(), ScalarType.Float32));
        for (var j = 0; j < mine.Length; j++) Assert.True(before[j].eq(mine[j]).all().item<bool>());
        Assert.Equal(5f, steps[0].item<float>());
    }

    [Fact]
    public void Clip_grad_norm_returns_the_norm_as_a_tensor_and_scales_to_max()
    {
        using var fused = FusedAdamW.TryCreate();
        Assert.NotNull(fused);
        using var scope = NewDisposeScope();
        var grads = new[] { full(4, 3f), full(9, 4f) }; // norm sqrt(36+144) = sqrt(180)
        var norm = fused!.ClipGradNorm(grads, 1.0);
        Assert.Equal(Math.Sqrt(180), norm.item<float>(), 4);
        var after = Math.Sqrt(grads.Sum(g => g.square().sum().item<float>()));
        Assert.Equal(1.0, after, 4);
    }

    [Fact]
    public void Autocast_runs_matmul_in_bf16_and_restores_state()
    {
        using var scope = NewDisposeScope();
        var a = randn(8, 8);
        Assert.False(Autocast.IsEnabledOn(DeviceType.CPU));
        using (Autocast.Enable(DeviceType.CPU, ScalarType.BFloat16))
        {
            Assert.True(Autocast.IsEnabledOn(DeviceType.CPU));
            Assert.Equal(ScalarType.BFloat16, a.matmul(a).dtype);
        }
        Assert.False(Autocast.IsEnabledOn(DeviceType.CPU));
        Assert.Equal(ScalarType.Float32, a.matmul(a).dtype);
    }
}
