using Generalist.Evaluation.Scoring;
using Generalist.Model;
using Generalist.Tokenizers;
using Generalist.Episodes;

namespace Generalist.Evaluation.Tests;

/// <summary>The scorer and decoders on a freshly initialized small model and synthetic episodes.</summary>
public class ScoringTests
{
    private static readonly ModelConfig Config = new ModelConfig { Layers = 2, ModelDim = 32, Heads = 2, ContextLength = 48, PatchSize = 4 }.Validate();

    private static Episode Regression(int seed, int d = 2, int pairs = 6)
    {
        var random = new Random(seed);
        var w = Enumerable.Range(0, d).Select(_ => random.NextDouble() - 0.5).ToArray();
        return new Episode("icl", Enumerable.Range(0, pairs).Select(_ =>
        {
            var x = Enumerable.Range(0, d).Select(_ => (float)(random.NextDouble() * 2 - 1)).ToArray();
            var y = (float)x.Select((v, j) => v * w[j]).Sum();
            return new Timestep(new Observation(Continuous: x), ActionValue.OfContinuous(y));
        }).ToList());
    }

    [Fact]
    public void EveryTokenAfterTheFirstIsScoredOnceAcrossWindowsAndBatchingDoesNotChangeScores()
    {
        using var model = new GeneralistModel(Config, seed: 3);
        var builder = new SequenceBuilder(VocabularyLayout.Default, Config.ContextLength, Config.PatchSize);
        var episodes = Enumerable.Range(0, 3).Select(i => Regression(i, pairs: 9)).ToList();   // 9 x 5 + 1 = 46.. tokens each
        var long_ = new Episode("icl", episodes.SelectMany(e => e.Timesteps).ToList());         // longer than one window
        var seqs = episodes.Append(long_).Select(e => builder.Build(e)).ToList();
        var batched = SequenceScorer.Score(model, seqs, batchSize: 8);
        var single = SequenceScorer.Score(model, seqs, batchSize: 1);
        for (var s = 0; s < seqs.Count; s++)
        {
            Assert.True(float.IsNaN(batched[s].Nats[0]));
            for (var j = 1; j < seqs[s].Length; j++)
            {
                Assert.False(float.IsNaN(batched[s].Nats[j]), $"seq {s} pos {j} not scored");
                Assert.Equal(single[s].Nats[j], batched[s].Nats[j], 3);
            }
        }
        var loss = SequenceMetrics.HeldOutLoss(batched);
        // An untrained model is near uniform over the vocabulary.
        Assert.InRange(loss, Math.Log(Config.VocabSize) - 1.5, Math.Log(Config.VocabSize) + 1.5);
    }

    [Fact]
    public void RegressionCurveHasOneEntryPerKAndBaselinesOnTheSameSequences()
    {
        using var model = new GeneralistModel(Config, seed: 4);
        var builder = new SequenceBuilder(VocabularyLayout.Default, Config.ContextLength, Config.PatchSize);
        var episodes = Enumerable.Range(0, 4).Select(i => Regression(10 + i)).ToList();
        var vocab = VocabularyLayout.Default;
        var scored = SequenceScorer.Score(model, episodes.Select(e => builder.Build(e)).ToList(),
            k => k == TokenKind.ActionContinuous ? (vocab.ContinuousOffset, vocab.ContinuousBins) : null);
        var (curve, baselines) = SequenceMetrics.InContextRegression(scored, episodes);
        Assert.Equal(5, curve.MeanSquaredError.Length);   // k = 0..2d with d = 2
        Assert.All(curve.Count, c => Assert.Equal(4, c));
        Assert.All(curve.MeanSquaredError, v => Assert.True(double.IsFinite(v)));
        Assert.Equal(4, baselines.Count);
        Assert.True(baselines.Single(b => b.Name == "least_squares").MeanSquaredError[4] < 1e-10);
    }

    [Fact]
    public void CaptionDecodingIsGreedyDeterministicAndBounded()
    {
        using var model = new GeneralistModel(Config, seed: 5);
        var builder = new SequenceBuilder(VocabularyLayout.Default, Config.ContextLength, Config.PatchSize);
        var random = new Random(1);
        var episodes = Enumerable.Range(0, 3).Select(i =>
        {
            var pixels = new byte[8 * 8];
            random.NextBytes(pixels);
            return new Episode("captions", [new Timestep(new Observation(Image: new ImageData(8, 8, 1, pixels))), new Timestep(new Observation(Text: "a photo of a cat"))]);
        }).ToList();
        var a = CaptionDecoder.Decode(model, builder, episodes);
        var b = CaptionDecoder.Decode(model, builder, episodes, batchSize: 1);
        Assert.Equal(a, b);
        Assert.All(a, r => Assert.Equal("a photo of a cat", r.Reference));
        Assert.All(a, r => Assert.True(builder.Text.Encode(r.Decoded).Length <= builder.Text.Encode(r.Reference).Length + 4));
    }
}
