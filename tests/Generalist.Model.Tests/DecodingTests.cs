using static TorchSharp.torch;

namespace Generalist.Model.Tests;

public class DecodingTests
{
    private const double Tolerance = 1e-4;

    [Fact]
    public void Incremental_decoding_gives_the_logits_of_a_full_forward_pass()
    {
        using var scope = NewDisposeScope();
        var config = SyntheticBatches.SmallConfig(context: 24, layers: 3);
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

    [Fact]
    public void The_window_slides_and_equals_a_full_pass_over_the_kept_positions()
    {
        using var scope = NewDisposeScope();
        var config = SyntheticBatches.SmallConfig(context: 16, layers: 2);
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

    private static void AssertClose(Tensor expected, Tensor actual)
    {
        Assert.Equal(expected.shape, actual.shape);
        var difference = (expected - actual).abs().max().item<float>();
        Assert.True(difference < Tolerance, $"max difference {difference}");
    }
}
