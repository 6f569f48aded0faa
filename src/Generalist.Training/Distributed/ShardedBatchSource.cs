using System.Text.Json;
using Generalist.Distributed;
using Generalist.Training.Data;
using Generalist.Packing;

namespace Generalist.Training.Distributed;

/// <summary>
/// This rank's rows of the global training stream (see <see cref="DataShard"/>): of every global
/// batch (batch_size rows, the GLOBAL micro-batch) a rank trains on rows
/// [rank * batch_size / W, (rank + 1) * batch_size / W). The cursor is the global stream's (a batch
/// number), identical on every rank and saved once by rank 0, so a resume with another world size
/// (same batch_size) continues the very same sample stream: nothing repeated, nothing skipped.
/// A source whose rows are pure functions of (seed, batch, row) (<see cref="IRowRangeBatchSource"/>,
/// e.g. the catalog's MixtureLoader) builds only this rank's rows; any other source builds the
/// whole global batch and the rank keeps its slice.
/// </summary>
public sealed class ShardedBatchSource(IBatchSource global, DataShard shard, int globalBatch) : IBatchSource
{
    private readonly (int Start, int Count) _rows = shard.Rows(globalBatch);

    public IBatchSource Global => global;
    public IReadOnlyList<string> TaskNames => global.TaskNames;
    public JsonElement Cursor => global.Cursor;
    public void Restore(JsonElement cursor) => global.Restore(cursor);
    public void Skip(long batches) => global.Skip(batches);

    /// <summary>True when only this rank's rows are built (not the whole global batch).</summary>
    public bool BuildsOwnRowsOnly => global is IRowRangeBatchSource;

    public PackedBatch Next()
    {
        if (shard.WorldSize == 1) return global.Next();
        if (global is IRowRangeBatchSource rows) return rows.NextRows(_rows.Start, _rows.Count);
        var batch = global.Next();
        if (batch.BatchSize != globalBatch)
            throw new InvalidDataException($"the data source returned a batch of {batch.BatchSize} rows; batch_size is {globalBatch}");
        return PackedBatchRows.Slice(batch, _rows.Start, _rows.Count);
    }
}

/// <summary>Row slices of a packed batch (a packed batch has no slicing of its own).</summary>
public static class PackedBatchRows
{
    /// <summary>
    /// Rows [start, start + count) as a batch of their own. Patches referenced by those rows are
    /// copied in order of first use and their indices renumbered, so the slice is self-contained.
    /// </summary>
    public static PackedBatch Slice(PackedBatch b, int start, int count)
    {
        if (start < 0 || count < 1 || start + count > b.BatchSize)
            throw new ArgumentOutOfRangeException(nameof(start), $"rows [{start}, {start + count}) are outside the batch's {b.BatchSize} rows");
        var length = b.ContextLength;
        var from = start * length;
        var n = count * length;
        var patchIndex = new long[n];
        var remap = new Dictionary<long, long>();
        var patchDim = b.Channels * b.PatchSize * b.PatchSize;
        var patches = new List<float>();
        var rows = new List<long>();
        var cols = new List<long>();
        for (var i = 0; i < n; i++)
        {
            var p = b.PatchIndex[from + i];
            if (p < 0) { patchIndex[i] = -1; continue; }
            if (!remap.TryGetValue(p, out var q))
            {
                q = rows.Count;
                remap[p] = q;
                patches.AddRange(b.Patches.AsSpan((int)(p * patchDim), patchDim).ToArray());
                rows.Add(b.PatchRows[p]);
                cols.Add(b.PatchCols[p]);
            }
            patchIndex[i] = q;
        }
        return new PackedBatch(count, length,
            b.Tokens.AsSpan(from, n).ToArray(), b.Targets.AsSpan(from, n).ToArray(), b.LossMask.AsSpan(from, n).ToArray(),
            b.LocalPositions.AsSpan(from, n).ToArray(), b.TaskIds.AsSpan(from, n).ToArray(), patchIndex,
            patches.ToArray(), rows.ToArray(), cols.ToArray(), rows.Count, b.PatchSize, b.Channels, b.TaskNames);
    }
}
