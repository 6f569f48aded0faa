using Generalist.Tokenizers;
using TorchSharp;
using static TorchSharp.torch;

namespace Generalist.Model.Tests;

public class ModelShapeTests
{
    [Fact]
    public void Forward_returns_logits_over_the_padded_vocabulary_for_every_position()
    {
        using var scope = NewDisposeScope();
        var config = SyntheticBatches.SmallConfig();
        using var model = new GeneralistModel(config);
        var batch = SyntheticBatches.Create(config, batchSize: 3, length: 20, seed: 1);
        using var inputs = ModelInputs.From(batch, CPU, config);
        var logits = model.forward(inputs);
        Assert.Equal([3L, 20L, VocabularyLayout.Default.PaddedSize], logits.shape);
        Assert.Equal(4, inputs.PatchCount / 3);
        Assert.True(logits.isfinite().all().item<bool>());
    }

    [Fact]
    public void Loss_is_a_scalar_with_per_task_sums_that_add_up()
    {
        using var scope = NewDisposeScope();
        var config = SyntheticBatches.SmallConfig();
        using var model = new GeneralistModel(config);
        var batch = SyntheticBatches.Create(config, batchSize: 3, length: 20, seed: 2);
        using var inputs = ModelInputs.From(batch, CPU, config);
        using var targets = LossTargets.From(batch, CPU);
        var output = model.Loss(inputs, targets);
        Assert.Empty(output.Loss.shape);
        Assert.Equal([3L], output.TaskSums.shape);
        Assert.Equal(batch.LossMask.Sum(), output.Count.item<float>());
        Assert.Equal(output.Sum.item<float>(), output.TaskSums.sum().item<float>(), 3);
        Assert.Equal(output.Count.item<float>(), output.TaskCounts.sum().item<float>());
        // An untrained model predicts roughly uniformly: loss near ln(V).
        Assert.InRange(output.Loss.item<float>(), Math.Log(config.VocabSize) - 1, Math.Log(config.VocabSize) + 1);
    }

    [Fact]
    public void A_patch_changes_the_logits_at_and_after_its_position_only()
    {
        using var scope = NewDisposeScope();
        var config = SyntheticBatches.SmallConfig();
        using var model = new GeneralistModel(config);
        var batch = SyntheticBatches.Create(config, batchSize: 1, length: 16, seed: 3, imageStart: 5, rows: 1, cols: 2);
        using var inputs = ModelInputs.From(batch, CPU, config);
        var changedPixels = (float[])batch.Patches.Clone();
        for (var i = config.PatchDim; i < changedPixels.Length; i++) changedPixels[i] = -changedPixels[i]; // second patch (position 6)
        using var changed = ModelInputs.From(batch with { Patches = changedPixels }, CPU, config);
        var before = model.forward(inputs);
        var after = model.forward(changed);
        var difference = (before - after).abs().amax([0, 2]);                                // (T)
        Assert.Equal(0f, difference.narrow(0, 0, 6).max().item<float>());
        Assert.True(difference.narrow(0, 6, 10).min().item<float>() > 0);
    }

    [Fact]
    public void Inputs_outside_the_configured_ranges_are_rejected_naming_the_field()
    {
        var config = SyntheticBatches.SmallConfig();
        var batch = SyntheticBatches.Create(config, batchSize: 1, length: 8, seed: 4, imageStart: 2, rows: 1, cols: 1);
        var tokens = (long[])batch.Tokens.Clone();
        tokens[0] = config.VocabSize;
        var e = Assert.Throws<ArgumentException>(() => ModelInputs.From(batch with { Tokens = tokens }, CPU, config));
        Assert.Contains("tokens[0]", e.Message);
        var local = (long[])batch.LocalPositions.Clone();
        local[1] = config.MaxLocalPositions;
        e = Assert.Throws<ArgumentException>(() => ModelInputs.From(batch with { LocalPositions = local }, CPU, config));
        Assert.Contains("MaxLocalPositions", e.Message);
        var index = (long[])batch.PatchIndex.Clone();
        index[5] = 7;
        e = Assert.Throws<ArgumentException>(() => ModelInputs.From(batch with { PatchIndex = index }, CPU));
        Assert.Contains("patchIndex[5]", e.Message);

        using var model = new GeneralistModel(config);
        var tooLong = SyntheticBatches.Create(config, batchSize: 1, length: config.ContextLength + 1, seed: 5);
        using var inputs = ModelInputs.From(tooLong, CPU, config);
        e = Assert.Throws<ArgumentException>(() => model.forward(inputs));
        Assert.Contains("ContextLength", e.Message);
    }

    [Fact]
    public void Config_validation_names_the_field_and_its_range()
    {
        var e = Assert.Throws<ArgumentException>(() => new ModelConfig { ModelDim = 30, Heads = 4 }.Validate());
        Assert.Contains("ModelDim (30) must be a multiple of Heads (4)", e.Message);
        e = Assert.Throws<ArgumentException>(() => new ModelConfig { Dropout = 1.5 }.Validate());
        Assert.Contains("Dropout", e.Message);
        e = Assert.Throws<ArgumentException>(() => new ModelConfig { Layers = 0 }.Validate());
        Assert.Contains("Layers (0) must be in [1, 256]", e.Message);
    }
}
