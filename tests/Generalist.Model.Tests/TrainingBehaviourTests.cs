using TorchSharp;
using static TorchSharp.torch;
using Generalist.Packing;

namespace Generalist.Model.Tests;

[Collection("GlobalGenerator")]
public class TrainingBehaviourTests
{
    [Fact]
    public void Changing_image_and_observation_targets_does_not_change_the_loss()
    {
        using var scope = NewDisposeScope();
        var config = SyntheticBatches.SmallConfig();
        using var model = new GeneralistModel(config);
        var batch = SyntheticBatches.Create(config, batchSize: 3, length: 20, seed: 11);
        using var inputs = ModelInputs.From(batch, CPU, config);
        var random = new Random(12);
        var unmaskedChanged = (long[])batch.Targets.Clone();
        var maskedChanged = (long[])batch.Targets.Clone();
        var changedUnmasked = 0;
        for (var i = 0; i < batch.Targets.Length; i++)
        {
            if (batch.LossMask[i] == 0) { unmaskedChanged[i] = random.Next(config.VocabSize); changedUnmasked++; }
            else maskedChanged[i] = (batch.Targets[i] + 1) % config.VocabSize;
        }
        Assert.True(changedUnmasked > 10);
        var reference = LossOf(model, inputs, batch);
        var ignored = LossOf(model, inputs, batch with { Targets = unmaskedChanged });
        var counted = LossOf(model, inputs, batch with { Targets = maskedChanged });
        Assert.Equal(reference.Loss, ignored.Loss);
        Assert.Equal(reference.TaskSums, ignored.TaskSums);
        Assert.NotEqual(reference.Loss, counted.Loss);
    }

    private static (float Loss, float[] TaskSums) LossOf(GeneralistModel model, ModelInputs inputs, Generalist.Packing.PackedBatch batch)
    {
        using var targets = LossTargets.From(batch, CPU);
        var output = model.Loss(inputs, targets);
        return (output.Loss.item<float>(), output.TaskSums.data<float>().ToArray());
    }

    [Fact]
    public void The_same_seed_gives_the_same_weights_and_outputs()
    {
        using var scope = NewDisposeScope();
        var config = SyntheticBatches.SmallConfig();
        using var a = new GeneralistModel(config, seed: 21);
        using var b = new GeneralistModel(config, seed: 21);
        using var c = new GeneralistModel(config, seed: 22);
        foreach (var (name, tensor) in a.state_dict())
            Assert.True(tensor.eq(b.state_dict()[name]).all().item<bool>(), name);
        Assert.False(a.state_dict()["blocks.0.attention.qkv.weight"].eq(c.state_dict()["blocks.0.attention.qkv.weight"]).all().item<bool>());
        var batch = SyntheticBatches.Create(config, batchSize: 2, length: 16, seed: 23);
        using var inputs = ModelInputs.From(batch, CPU, config);
        Assert.True(a.forward(inputs).eq(b.forward(inputs)).all().item<bool>());
    }

    [Fact]
    public void Live_tensors_stay_flat_over_repeated_forward_and_backward()
    {
        var config = SyntheticBatches.SmallConfig();
        using var model = new GeneralistModel(config);
        var batch = SyntheticBatches.Create(config, batchSize: 2, length: 20, seed: 31);
        using var inputs = ModelInputs.From(batch, CPU, config);
        using var targets = LossTargets.From(batch, CPU);
        var counts = new List<long>();
        for (var step = 0; step < 30; step++)
        {
            using (var stepScope = NewDisposeScope())
            {
                model.zero_grad();
                var output = model.Loss(inputs, targets);
                output.Loss.backward();
                _ = output.TaskSums.sum().item<float>();
                using var cache = model.CreateCache(2);
                using var prompt = batch.Slice(0, 10, config);
                model.Extend(prompt, cache);
            }
            counts.Add(DisposeScopeManager.Statistics.ThreadTotalLiveCount);
        }
        // After the first steps allocate the gradients, nothing accumulates.
        Assert.Equal(counts[5], counts[^1]);
    }

    [Fact]
    public void A_tiny_model_overfits_a_single_batch()
    {
        var config = SyntheticBatches.SmallConfig(context: 32, layers: 2) with { ModelDim = 64, Heads = 2 };
        using var model = new GeneralistModel(config, seed: 41);
        var batch = SyntheticBatches.Create(config, batchSize: 4, length: 32, seed: 42, vocabularyLimit: 300);
        using var inputs = ModelInputs.From(batch, CPU, config);
        using var targets = LossTargets.From(batch, CPU);
        using var optimizer = optim.AdamW(model.parameters(), lr: 3e-3, beta1: 0.9, beta2: 0.95, weight_decay: 0);
        var losses = new List<float>();
        for (var step = 0; step < 50; step++)
        {
            using var stepScope = NewDisposeScope();
            optimizer.zero_grad();
            var output = model.Loss(inputs, targets);
            output.Loss.backward();
            optimizer.step();
            losses.Add(output.Loss.item<float>());
        }
        Assert.True(losses[^1] < 0.25f * losses[0], $"loss went from {losses[0]} to {losses[^1]}");
    }
}

/// <summary>
/// Building a model leaves libtorch's global generator alone. The generator is process-wide, so
/// this runs in a collection of its own, after the parallel tests (any of them may draw from it).
/// </summary>
[CollectionDefinition(nameof(GlobalGeneratorTests), DisableParallelization = true)]
public sealed class GlobalGeneratorCollection;

[Collection(nameof(GlobalGeneratorTests))]
public sealed class GlobalGeneratorTests
{
    [Fact]
    public void Building_a_model_leaves_the_global_generator_alone()
    {
        using var scope = NewDisposeScope();
        var config = SyntheticBatches.SmallConfig();
        torch.manual_seed(5);
        var first = torch.rand(4);
        torch.manual_seed(5);
        using (new GeneralistModel(config, seed: 99)) { }
        Assert.True(first.eq(torch.rand(4)).all().item<bool>());
    }
}
