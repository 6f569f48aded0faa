using Generalist.Tokenizers;
using static TorchSharp.torch;

namespace Generalist.Model.Tests;

// Building a ValueEmbedding alone draws its init from torch's global generator, which
// TrainingBehaviourTests checks is left untouched: the two must not run at the same time.
[Collection("GlobalGenerator")]
public class ValueEmbeddingTests
{
    private static readonly VocabularyLayout Vocab = VocabularyLayout.Default;

    [Fact]
    public void Only_continuous_value_tokens_get_a_value_feature()
    {
        using var scope = NewDisposeScope();
        var config = SyntheticBatches.SmallConfig();
        using var embedding = new ValueEmbedding(config);
        long[] ids = [5, Vocab.ContinuousOffset, Vocab.ContinuousOffset + 1023, Vocab.DiscreteOffset, Vocab.Separator, Vocab.Pad];
        using var _ = no_grad();
        var out_ = embedding.forward(tensor(ids, [1, ids.Length]));                       // (1, 6, C)
        var norms = out_.norm(-1).squeeze(0).data<float>().ToArray();
        Assert.Equal(0f, norms[0]);
        Assert.True(norms[1] > 0 && norms[2] > 0, "both ends of the bin range are values");
        Assert.Equal(0f, norms[3]);
        Assert.Equal(0f, norms[4]);
        Assert.Equal(0f, norms[5]);
    }

    [Fact]
    public void Neighbouring_bins_get_nearby_features_and_distant_bins_do_not()
    {
        // The value part of the embedding is smooth in the bin: an unseen bin lands near its neighbours.
        using var scope = NewDisposeScope();
        var config = SyntheticBatches.SmallConfig();
        using var embedding = new ValueEmbedding(config);
        var o = Vocab.ContinuousOffset;
        using var _ = no_grad();
        var e = embedding.forward(tensor(new long[] { o + 500, o + 501, o + 900 }, [1, 3])).squeeze(0); // (3, C)
        var near = (e[0] - e[1]).norm().item<float>();
        var far = (e[0] - e[2]).norm().item<float>();
        Assert.True(near * 20 < far, $"near {near}, far {far}");
    }

    [Fact]
    public void The_bin_centre_matches_the_tokenizer()
    {
        // The module computes the centre on the device; it must be the tokenizer's BinCentre.
        Assert.Equal(-1 + 0.5f / 512, ContinuousTokenizer.BinCentre(0), 6);
        Assert.Equal(1 - 0.5f / 512, ContinuousTokenizer.BinCentre(1023), 6);
        Assert.Equal(Vocab.ContinuousBins, SyntheticBatches.SmallConfig().ContinuousBins);
        Assert.Equal(Vocab.ContinuousOffset, SyntheticBatches.SmallConfig().ContinuousOffset);
    }
}
