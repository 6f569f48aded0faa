namespace Generalist.Distributed;

/// <summary>
/// Which rows of each global batch this rank trains on. Every rank follows the same deterministic
/// global data stream (one cursor, identical on all ranks) with global batch
/// B_global = B_rank * W and trains on rows [rank * B_rank, (rank + 1) * B_rank). Why this scheme:
/// the cursor is one global value, checkpointed once, and it means the same thing for any W, so a
/// resume with another world size continues the very same sample stream (no sample repeated or
/// skipped) as long as the global batch is kept; per-rank cursors would have to be re-split. Since
/// the loader builds each row as a pure function of (seed, batch, row), a rank builds only its own
/// rows (Generalist.Training's ShardedBatchSource), not the whole global batch.
/// </summary>
public sealed record DataShard(int Rank, int WorldSize)
{
    public static DataShard Single { get; } = new(0, 1);

    public static DataShard Of(ICommunicator communicator) => new(communicator.Rank, communicator.WorldSize);

    /// <summary>The global batch for a per-rank batch.</summary>
    public int GlobalBatch(int perRankBatch) => checked(perRankBatch * WorldSize);

    /// <summary>This rank's rows of a global batch: (start, count). The global batch must divide by the world size.</summary>
    public (int Start, int Count) Rows(int globalBatch)
    {
        if (globalBatch < WorldSize || globalBatch % WorldSize != 0)
            throw new DistributedException(
                $"the global batch ({globalBatch} sequences) must be a positive multiple of the world size ({WorldSize} ranks)");
        var count = globalBatch / WorldSize;
        return (Rank * count, count);
    }

    /// <summary>
    /// The per-rank batch that keeps a global batch when the world size changes (resume with other
    /// ranks). Throws with both numbers when it does not divide.
    /// </summary>
    public int PerRankBatchFor(int globalBatch) => Rows(globalBatch).Count;
}
