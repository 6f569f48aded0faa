using static TorchSharp.torch;

namespace Generalist.Model.Tests;

public class DecodingTests
{
    private const double Tolerance = 1e-4;

    // Every combination of the model options: Gato exact, each change alone, and the default.
    public static TheoryData<ValueEmbeddingKind, AttentionPositionKind> Options => new()
    {
        { ValueEmbeddingKind.None, AttentionPositionKind.None },
        { ValueEmbeddingKind.Fourier, AttentionPositionKind.None },
        { ValueEmbeddingKind.None, AttentionPositionKind.Rope },
        { ValueEmbeddingKind.Fourier, AttentionPositionKind.Rope },
    };

    [Theory]
    [MemberData(nameof(Options))]
    public void Incremental_decoding_gives_the_logits_of_a_full_forward_pass(ValueEmbeddingKind values, AttentionPositionKind positions)
    {
        using var scope = NewDisposeScope();
        var config = SyntheticBatches.SmallConfig(context: 24, layers: 3) with { ValueEmbedding = values, AttentionPositions = positions };
        using var model = new GeneralistModel(config, seed: 5);
        model.eval();
        var batch = SyntheticBatches.Create(config, batchSize: 2, length: 20, seed: 6, imageStart: 3, rows: 2, cols: 2);
        using var all = ModelInputs.From(batch, CPU, config);
        var full = model.forward(all);                                            // (B, 20, V)

        // A prompt holding the image, a chunk of 4 positions, then one token at a time.
        using var prompt = batch.Slice(0, 8, config);
        var (logits, cache) = model.Prefill(prompt);
        using var _ = cache;
        AssertClose(full.select(1, 7), logits);
        using var chunk = batch.Slice(8, 4, config);
        var chunkLogits = model.Extend(chunk, cache, allPositions: true);          // (B, 4, V)
        AssertClose(full.narrow(1, 8, 4), chunkLogits);
        for (var t = 12; t < 20; t++)
        {
            var step = model.DecodeStep(all.Tokens.select(1, t), all.LocalPositions.select(1, t), cache);
            AssertClose(full.select(1, t), step);
        }
        Assert.Equal(20, cache.Length);
        Assert.Equal(0, cache.Slides);
    }

    [Theory]
    [MemberData(nameof(Options))]
    public void The_window_slides_and_equals_a_full_pass_over_the_kept_positions(ValueEmbeddingKind values, AttentionPositionKind positions)
    {
        using var scope = NewDisposeScope();
        var config = SyntheticBatches.SmallConfig(context: 16, layers: 2) with { ValueEmbedding = values, AttentionPositions = positions };
        using var model = new GeneralistModel(config, seed: 7);
        model.eval();
        const int total = 50;
        // The history is longer than the context; its image is dropped off the front on the way.
        var history = SyntheticBatches.Create(config with { ContextLength = total }, batchSize: 2, length: total, seed: 8, imageStart: 2, rows: 1, cols: 3);
        using var prompt = history.Slice(0, 6, config);
        var (_, cache) = model.Prefill(prompt, slideSlack: 3);
        using var owned = cache;
        var fed = 6;
        while (fed < total)
        {
            using var next = history.Slice(fed, 1, config);
            var logits = model.Extend(next, cache);
            fed++;
            Assert.InRange(cache.Length, 1, config.ContextLength);
            Assert.Equal(fed, cache.Dropped + cache.Length);
            using var window = history.Slice((int)cache.Dropped, cache.Length, config);
            var reference = model.forward(window).select(1, cache.Length - 1);
            AssertClose(reference, logits);
        }
        // 50 positions through a 16-wide window that drops 3 extra per slide.
        Assert.True(cache.Slides >= 3, $"slides: {cache.Slides}");
    }

    [Fact]
    public void A_prompt_longer_than_the_context_keeps_its_last_positions()
    {
        using var scope = NewDisposeScope();
        var config = SyntheticBatches.SmallConfig(context: 12, layers: 2);
        using var model = new GeneralistModel(config, seed: 9);
        model.eval();
        var long20 = SyntheticBatches.Create(config with { ContextLength = 20 }, batchSize: 1, length: 20, seed: 10, imageStart: 10, rows: 1, cols: 2);
        using var prompt = long20.Slice(0, 20, config);
        var (logits, cache) = model.Prefill(prompt);
        using var _ = cache;
        Assert.Equal((12, 8L), (cache.Length, cache.Dropped));
        using var window = long20.Slice(8, 12, config);
        AssertClose(model.forward(window).select(1, 11), logits);
    }

    [Fact]
    public void A_cache_for_another_batch_size_is_refused()
    {
        var config = SyntheticBatches.SmallConfig();
        using var model = new GeneralistModel(config);
        using var cache = model.CreateCache(batchSize: 3);
        using var inputs = SyntheticBatches.Create(config, batchSize: 2, length: 4, seed: 1).Slice(0, 4, config);
        var e = Assert.Throws<ArgumentException>(() => model.Extend(inputs, cache));
        Assert.Contains("cache holds 3", e.Message);
    }

    [Fact]
    public void Rotary_positions_make_attention_see_distance()
    {
        // Without any position signal, the last position's output cannot tell which of two earlier
        // tokens came first when their local positions are equal; with rotary positions it can.
        using var scope = NewDisposeScope();
        double Difference(AttentionPositionKind positions)
        {
            var config = SyntheticBatches.SmallConfig(context: 8, layers: 1) with { AttentionPositions = positions, ValueEmbedding = ValueEmbeddingKind.None };
            using var model = new GeneralistModel(config, seed: 3);
            model.eval();
            // At initialisation attention is nearly uniform (q·k ~ 0), which hides any position
            // signal; larger weights make the scores, and so the order, matter (not so large that the
            // softmax saturates on one token, which would hide the order again).
            using (no_grad()) foreach (var p in model.parameters()) p.mul_(4);
            var zeros = tensor(new long[] { 0, 0, 0 }, [1, 3]);
            using var ab = new ModelInputs(1, 3, 0, tensor(new long[] { 11, 22, 33 }, [1, 3]), zeros, empty([0], ScalarType.Int64),
                empty([0, config.PatchDim]), empty([0], ScalarType.Int64), empty([0], ScalarType.Int64));
            using var ba = new ModelInputs(1, 3, 0, tensor(new long[] { 22, 11, 33 }, [1, 3]), zeros, empty([0], ScalarType.Int64),
                empty([0, config.PatchDim]), empty([0], ScalarType.Int64), empty([0], ScalarType.Int64));
            using var _ = no_grad();
            return (model.forward(ab).select(1, 2) - model.forward(ba).select(1, 2)).abs().max().item<float>();
        }
        Assert.True(Difference(AttentionPositionKind.None) < 1e-5, "Gato exact should not see the order of two earlier tokens from the last position");
        var rope = Difference(AttentionPositionKind.Rope);
        Assert.True(rope > 1e-3, $"rotary positions should make the order visible (difference {rope}, without {Difference(AttentionPositionKind.None)})");
    }

    private static void AssertClose(Tensor expected, Tensor actual)
    {
        Assert.Equal(expected.shape, actual.shape);
        var difference = (expected - actual).abs().max().item<float>();
        Assert.True(difference < Tolerance, $"max difference {difference}");
    }
}
