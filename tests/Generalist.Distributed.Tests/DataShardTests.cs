namespace Generalist.Distributed.Tests;

public class DataShardTests
{
    [Fact]
    public void Each_rank_takes_its_own_contiguous_rows()
    {
        Assert.Equal((0, 4), new DataShard(0, 2).Rows(8));
        Assert.Equal((4, 4), new DataShard(1, 2).Rows(8));
        Assert.Equal((6, 2), new DataShard(3, 4).Rows(8));
        Assert.Equal(12, new DataShard(0, 3).GlobalBatch(4));
    }

    [Fact]
    public void A_global_batch_that_does_not_divide_is_refused_with_both_numbers()
    {
        var e = Assert.Throws<DistributedException>(() => new DataShard(0, 3).Rows(8));
        Assert.Contains("global batch (8 sequences) must be a positive multiple of the world size (3 ranks)", e.Message);
    }

    /// <summary>
    /// A stand-in for the trainer's loader: a deterministic, shuffled, endless stream of sample ids
    /// whose whole state is one cursor (what a checkpoint stores).
    /// </summary>
    private sealed class ShuffledStream(int datasetSize, long seed)
    {
        public long Cursor { get; set; }

        public int[] NextBatch(int size)
        {
            var batch = new int[size];
            for (var i = 0; i < size; i++, Cursor++)
            {
                var epoch = Cursor / datasetSize;
                var order = Enumerable.Range(0, datasetSize).ToArray();
                new Random((int)(seed * 7919 + epoch)).Shuffle(order);
                batch[i] = order[Cursor % datasetSize];
            }
            return batch;
        }
    }

    /// <summary>Runs `steps` steps on `world` ranks from a cursor; returns what each rank trained on and the cursor after.</summary>
    private static (List<int> Seen, long Cursor) Train(int world, int globalBatch, int steps, long cursor)
    {
        var seen = new List<int>();
        var cursors = new HashSet<long>();
        for (var rank = 0; rank < world; rank++)
        {
            var stream = new ShuffledStream(datasetSize: 40, seed: 5) { Cursor = cursor };
            var shard = new DataShard(rank, world);
            for (var s = 0; s < steps; s++)
            {
                var global = stream.NextBatch(globalBatch);
                var (start, count) = shard.Rows(globalBatch);
                seen.AddRange(global.Skip(start).Take(count));
            }
            cursors.Add(stream.Cursor);
        }
        Assert.Single(cursors); // the cursor is global: identical on every rank, checkpointed once
        return (seen, cursors.Single());
    }

    [Theory]
    [InlineData(2, 4)]
    [InlineData(2, 1)]
    [InlineData(4, 2)]
    [InlineData(1, 4)]
    public void Resuming_with_another_world_size_neither_repeats_nor_skips_a_sample(int before, int after)
    {
        const int globalBatch = 8;
        // Reference: one process, 10 steps straight through one epoch boundary (80 samples = 2 epochs of 40).
        var (reference, _) = Train(1, globalBatch, 10, 0);
        // Distributed: 3 steps on `before` ranks, checkpoint the cursor, resume on `after` ranks for 7.
        var (first, cursor) = Train(before, globalBatch, 3, 0);
        var (second, _) = Train(after, globalBatch, 7, cursor);
        var trained = first.Concat(second).ToList();
        Assert.Equal(reference.Order(), trained.Order());
        // Two full epochs: every sample exactly twice, none repeated within an epoch.
        Assert.All(trained.GroupBy(x => x), g => Assert.Equal(2, g.Count()));
    }
}
