using Generalist.Tokenizers;
using static TorchSharp.torch;
using F = TorchSharp.torch.nn.functional;

namespace Generalist.Model.Tests;

/// <summary>HL-Gauss label widths and the value head: what each changes, and what each leaves alone.</summary>
public class ContinuousTargetTests
{
    private static readonly VocabularyLayout Vocab = VocabularyLayout.Default;

    /// <summary>One sequence whose targets are a text token, a middle bin, an edge bin and a discrete value, all with loss.</summary>
    private static (ModelInputs Inputs, Tensor Targets, Tensor Mask, Tensor Tasks) Batch(ModelConfig config)
    {
        var batch = SyntheticBatches.Create(config, batchSize: 1, length: 6, seed: 3, imageStart: 6, rows: 0, cols: 0);
        var inputs = ModelInputs.From(batch, CPU, config);
        var targets = tensor(new long[] { 7, Vocab.ContinuousOffset + 500, Vocab.ContinuousOffset, Vocab.DiscreteOffset + 2, 9, 11 }, [1, 6]);
        var mask = tensor(new float[] { 1, 1, 1, 1, 0, 0 }, [1, 6]);
        return (inputs, targets, mask, zeros([1, 6], ScalarType.Int64));
    }

    [Fact]
    public void Gaussian_labels_change_only_continuous_targets_and_match_a_hand_computed_soft_cross_entropy()
    {
        using var scope = NewDisposeScope();
        var config = SyntheticBatches.SmallConfig();
        using var model = new GeneralistModel(config, seed: 2);
        model.eval();
        var (inputs, targets, mask, tasks) = Batch(config);
        using var _ = no_grad();
        var logProbs = F.log_softmax(model.forward(inputs).squeeze(0), 1);               // (6, V)
        const double sigma = 6;
        var expected = new double[4];
        for (var j = 0; j < 4; j++)
        {
            var target = targets[0, j].item<long>();
            var bin = target - Vocab.ContinuousOffset;
            if (bin < 0 || bin >= Vocab.ContinuousBins) { expected[j] = -logProbs[j, target].item<float>(); continue; }
            var weights = Enumerable.Range(0, Vocab.ContinuousBins).Select(i => Math.Exp(-0.5 * (i - bin) * (i - bin) / (sigma * sigma))).ToArray();
            var total = weights.Sum();
            var row = logProbs[j].narrow(0, Vocab.ContinuousOffset, Vocab.ContinuousBins).data<float>().ToArray();
            expected[j] = -Enumerable.Range(0, row.Length).Sum(i => weights[i] / total * row[i]);
        }
        var soft = model.Loss(inputs, targets, mask, tasks, 1, continuousLabelSigma: sigma).Sum.item<float>();
        var hard = model.Loss(inputs, targets, mask, tasks, 1).Sum.item<float>();
        Assert.Equal(expected.Sum(), soft, 2);
        // Text and discrete targets keep their one-hot loss, so the two sums differ only by the two bins.
        var hardBins = -logProbs[1, targets[0, 1].item<long>()].item<float>() - logProbs[2, targets[0, 2].item<long>()].item<float>();
        Assert.Equal(hard - hardBins, soft - expected[1] - expected[2], 2);
        Assert.NotEqual(hard, soft, 2);
    }

    [Fact]
    public void A_narrow_gaussian_is_the_one_hot_target()
    {
        using var scope = NewDisposeScope();
        var config = SyntheticBatches.SmallConfig();
        using var model = new GeneralistModel(config, seed: 2);
        var (inputs, targets, mask, tasks) = Batch(config);
        using var _ = no_grad();
        var hard = model.Loss(inputs, targets, mask, tasks, 1).Sum.item<float>();
        var narrow = model.Loss(inputs, targets, mask, tasks, 1, continuousLabelSigma: 0.05).Sum.item<float>();
        Assert.Equal(hard, narrow, 4);
        Assert.Throws<ArgumentException>(() => model.Loss(inputs, targets, mask, tasks, 1, continuousLabelSigma: -1));
    }

    [Fact]
    public void The_value_head_changes_bin_logits_only_and_decodes_like_a_full_pass()
    {
        using var scope = NewDisposeScope();
        var config = SyntheticBatches.SmallConfig(context: 24, layers: 2);
        using var plain = new GeneralistModel(config, seed: 4);
        using var valued = new GeneralistModel(config with { ValueHead = true }, seed: 4);
        plain.eval();
        valued.eval();
        var batch = SyntheticBatches.Create(config, batchSize: 2, length: 16, seed: 8, imageStart: 2, rows: 2, cols: 2);
        using var inputs = ModelInputs.From(batch, CPU, config);
        using var _ = no_grad();
        var a = plain.forward(inputs);
        var b = valued.forward(inputs);                                              // same weights: the option adds none
        var o = Vocab.ContinuousOffset;
        var n = Vocab.ContinuousBins;
        Assert.Equal(0f, (a.narrow(2, 0, o) - b.narrow(2, 0, o)).abs().max().item<float>());
        Assert.Equal(0f, (a.narrow(2, o + n, a.shape[2] - o - n) - b.narrow(2, o + n, a.shape[2] - o - n)).abs().max().item<float>());
        Assert.True((a.narrow(2, o, n) - b.narrow(2, o, n)).abs().max().item<float>() > 1e-3f, "bin logits must see the value features");

        using var prompt = batch.Slice(0, 9, config);
        var (logits, cache) = valued.Prefill(prompt);
        using var __ = cache;
        Assert.True((b.select(1, 8) - logits).abs().max().item<float>() < 1e-4f);
        var step = valued.DecodeStep(inputs.Tokens.select(1, 9), inputs.LocalPositions.select(1, 9), cache);
        Assert.True((b.select(1, 9) - step).abs().max().item<float>() < 1e-4f);

        // The option needs what it reads: the value features and a head tied to the embedding.
        Assert.Throws<ArgumentException>(() => (config with { ValueHead = true, ValueEmbedding = ValueEmbeddingKind.None }).Validate());
        Assert.Throws<ArgumentException>(() => (config with { ValueHead = true, TieEmbeddings = false }).Validate());
    }
}
