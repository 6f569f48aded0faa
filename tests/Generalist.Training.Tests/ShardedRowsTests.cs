using Generalist.Distributed;
using Generalist.Tokenizers;
using Generalist.Training.Data;
using Generalist.Training.Distributed;
using Generalist.Episodes;
using Generalist.Packing;

namespace Generalist.Training.Tests;

/// <summary>
/// A data-parallel rank builds only its own rows of each global batch from the real loader; those
/// rows must be exactly the rows it would have cut from the whole batch, patches included.
/// </summary>
public class ShardedRowsTests
{
    private static MixtureLoader Loader()
    {
        var rng = new Random(5);
        var images = Enumerable.Range(0, 6).Select(i => new Episode("img", [
            new Timestep(new Observation(Image: new ImageData(16, 8, 3, RandomBytes(16 * 8 * 3, rng)))),
            new Timestep(new Observation(Text: $"picture {i}")),
        ])).ToList();
        var control = Enumerable.Range(0, 6).Select(e => new Episode("ctl", Enumerable.Range(0, 3 + e).Select(t =>
            new Timestep(new Observation(Continuous: [(float)rng.NextDouble(), (float)t]), ActionValue.OfDiscrete([rng.Next(4)]), 1f)).ToArray())).ToList();
        var text = Enumerable.Range(0, 4).Select(d => new Episode("txt", [new Timestep(new Observation(Text: string.Join(' ', Enumerable.Repeat($"word{d}", 30))))])).ToList();
        return new MixtureLoader(
        [
            new TaskStream("img", 1, new InMemoryEpisodeSource("img", TaskFamily.VisionLanguage, images)),
            new TaskStream("ctl", 2, new InMemoryEpisodeSource("ctl", TaskFamily.Control, control)),
            new TaskStream("txt", 1, new InMemoryEpisodeSource("txt", TaskFamily.Language, text)),
        ], new LoaderOptions(48, 8, 8, 0.5, 11), VocabularyLayout.Default);
    }

    private static byte[] RandomBytes(int n, Random rng)
    {
        var b = new byte[n];
        rng.NextBytes(b);
        return b;
    }

    [Theory]
    [InlineData(2)]
    [InlineData(4)]
    public void Each_rank_builds_exactly_its_slice_of_the_global_batch_and_keeps_the_global_cursor(int world)
    {
        var whole = new MixtureBatchSource(Loader());
        var ranks = Enumerable.Range(0, world).Select(r => new ShardedBatchSource(new MixtureBatchSource(Loader()), new DataShard(r, world), 8)).ToArray();
        Assert.All(ranks, r => Assert.True(r.BuildsOwnRowsOnly));
        for (var step = 0; step < 5; step++)
        {
            var global = whole.Next();
            var count = 8 / world;
            for (var r = 0; r < world; r++)
            {
                var own = ranks[r].Next();
                var expected = PackedBatchRows.Slice(global, r * count, count);
                Assert.Equal(count, own.BatchSize);
                Assert.Equal(expected.Tokens, own.Tokens);
                Assert.Equal(expected.Targets, own.Targets);
                Assert.Equal(expected.LossMask, own.LossMask);
                Assert.Equal(expected.LocalPositions, own.LocalPositions);
                Assert.Equal(expected.TaskIds, own.TaskIds);
                Assert.Equal(expected.PatchIndex, own.PatchIndex);
                Assert.Equal(expected.Patches, own.Patches);
                Assert.Equal(expected.PatchRows, own.PatchRows);
                Assert.Equal(expected.PatchCols, own.PatchCols);
                // The cursor counts global batches: the same on every rank as on one process.
                Assert.Equal(whole.Cursor.ToString(), ranks[r].Cursor.ToString());
            }
        }
        Assert.Contains(whole.Next().PatchIndex, p => p >= 0); // the mixture did include images
    }

    [Fact]
    public void A_global_batch_that_does_not_divide_by_the_ranks_is_refused_naming_both_numbers()
    {
        var e = Assert.Throws<DistributedException>(() => new ShardedBatchSource(new MixtureBatchSource(Loader()), new DataShard(0, 3), 8));
        Assert.Contains("8", e.Message);
        Assert.Contains("3 ranks", e.Message);
    }
}
