using System.Runtime.CompilerServices;
using Generalist.Torch;
using TorchSharp;
using static TorchSharp.torch;

namespace Generalist.Torch.Tests;

internal static class TorchSetup
{
    [ModuleInitializer]
    internal static void Load() => TorchRuntime.EnsureLoaded();
}

public class TwoLayerTrainingTests
{
    [Fact]
    public void A_two_layer_model_trains_50_steps_and_its_loss_falls()
    {
        torch.manual_seed(7);
        using var scope = NewDisposeScope();
        var model = nn.Sequential(nn.Linear(8, 32), nn.GELU(), nn.Linear(32, 1));
        var optimizer = optim.AdamW(model.parameters(), lr: 1e-2);
        var x = randn(256, 8);
        var w = randn(8, 1);
        var y = x.matmul(w);
        var losses = new List<float>();
        for (var step = 0; step < 50; step++)
        {
            using var stepScope = NewDisposeScope();
            optimizer.zero_grad();
            var loss = nn.functional.mse_loss(model.call(x), y);
            loss.backward();
            optimizer.step();
            losses.Add(loss.item<float>());
        }
        Assert.True(losses[^1] < 0.2f * losses[0], $"loss went from {losses[0]} to {losses[^1]}");
    }

    [Fact]
    public void The_same_seed_gives_the_same_numbers()
    {
        torch.manual_seed(11);
        var a = randn(16).data<float>().ToArray();
        torch.manual_seed(11);
        var b = randn(16).data<float>().ToArray();
        Assert.Equal(a, b);
    }
}
