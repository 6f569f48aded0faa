using TorchSharp;
using static TorchSharp.torch;
using Generalist.Packing;

namespace Generalist.Model;

/// <summary>
/// What the model reads, as tensors on one device. Patch positions are given as a flat list
/// (row b*T + t of the (B*T, C) embedding) computed on the host, so that placing the patch
/// embeddings needs no device-to-host copy (no `nonzero`). K = number of patch positions.
/// Disposing the inputs disposes their tensors.
/// </summary>
public sealed class ModelInputs : IDisposable
{
    public int BatchSize { get; }
    public int Length { get; }
    /// <summary>Patch positions in this input (host-side, so that no sync is needed to know it).</summary>
    public int PatchCount { get; }

    public Tensor Tokens { get; }          // (B, T) int64 token ids; Pad at patch positions
    public Tensor LocalPositions { get; }  // (B, T) int64 local observation positions
    public Tensor PatchPositions { get; }  // (K) int64 flat positions b*T + t that hold a patch
    public Tensor Patches { get; }         // (K, C*P*P) float32 normalized pixels, one row per patch position
    public Tensor PatchRows { get; }       // (K) int64 patch row within its image
    public Tensor PatchCols { get; }       // (K) int64 patch column within its image

    public ModelInputs(int batchSize, int length, int patchCount, Tensor tokens, Tensor localPositions,
        Tensor patchPositions, Tensor patches, Tensor patchRows, Tensor patchCols)
    {
        BatchSize = batchSize;
        Length = length;
        PatchCount = patchCount;
        Tokens = tokens;
        LocalPositions = localPositions;
        PatchPositions = patchPositions;
        Patches = patches;
        PatchRows = patchRows;
        PatchCols = patchCols;
    }

    public Device Device => Tokens.device;

    /// <summary>The inputs of a packed batch on a device (validated against the config when given).</summary>
    public static ModelInputs From(PackedBatch batch, Device device, ModelConfig? config = null)
    {
        ArgumentNullException.ThrowIfNull(batch);
        return Create(batch.BatchSize, batch.ContextLength, batch.Tokens, batch.LocalPositions, batch.PatchIndex,
            batch.Patches, batch.PatchRows, batch.PatchCols, batch.NumPatches, batch.Channels * batch.PatchSize * batch.PatchSize,
            device, config);
    }

    /// <summary>
    /// Builds inputs from host arrays laid out like <see cref="PackedBatch"/>: tokens, local
    /// positions and patch index are (B, T) row-major; patchIndex is -1 or a row of patches
    /// (numPatches, patchDim). Used for a packed batch and for the chunks fed to a KV cache.
    /// </summary>
    public static ModelInputs Create(int batchSize, int length, long[] tokens, long[] localPositions, long[] patchIndex,
        float[] patches, long[] patchRows, long[] patchCols, int numPatches, int patchDim, Device device, ModelConfig? config = null)
    {
        if (batchSize < 1) throw new ArgumentException($"batch size ({batchSize}) must be at least 1.");
        if (length < 1) throw new ArgumentException($"sequence length ({length}) must be at least 1.");
        var n = batchSize * length;
        RequireLength(tokens, n, nameof(tokens));
        RequireLength(localPositions, n, nameof(localPositions));
        RequireLength(patchIndex, n, nameof(patchIndex));
        if (numPatches < 0 || patchDim < 1 || patches.Length != (long)numPatches * patchDim)
            throw new ArgumentException($"patches has {patches.Length} values; expected numPatches ({numPatches}) x patch dim ({patchDim}).");
        RequireLength(patchRows, numPatches, nameof(patchRows));
        RequireLength(patchCols, numPatches, nameof(patchCols));
        if (config is not null) CheckRanges(config, tokens, localPositions, patchRows, patchCols, patchDim);

        var positions = new List<long>();
        for (var i = 0; i < n; i++)
        {
            var p = patchIndex[i];
            if (p < -1 || p >= numPatches)
                throw new ArgumentException($"patchIndex[{i}] ({p}) must be -1 or in [0, {numPatches}).");
            if (p >= 0) positions.Add(i);
        }
        // One patch vector per patch position, in position order (a patch referenced twice is copied).
        var k = positions.Count;
        var gathered = new float[k * patchDim];
        var rows = new long[k];
        var cols = new long[k];
        for (var j = 0; j < k; j++)
        {
            var p = (int)patchIndex[positions[j]];
            Array.Copy(patches, (long)p * patchDim, gathered, (long)j * patchDim, patchDim);
            rows[j] = patchRows[p];
            cols[j] = patchCols[p];
        }
        return new ModelInputs(batchSize, length, k,
            tensor(tokens, [batchSize, length], ScalarType.Int64, device),
            tensor(localPositions, [batchSize, length], ScalarType.Int64, device),
            tensor(positions.ToArray(), [k], ScalarType.Int64, device),
            tensor(gathered, [k, patchDim], ScalarType.Float32, device),
            tensor(rows, [k], ScalarType.Int64, device),
            tensor(cols, [k], ScalarType.Int64, device));
    }

    /// <summary>One token per sequence (a decode step): tokens and local positions are (B).</summary>
    public static ModelInputs ForTokens(Tensor tokens, Tensor localPositions)
    {
        if (tokens.ndim != 1 || localPositions.ndim != 1 || tokens.shape[0] != localPositions.shape[0])
            throw new ArgumentException($"a decode step takes tokens (B) and local positions (B); got {Shape(tokens)} and {Shape(localPositions)}.");
        var b = (int)tokens.shape[0];
        var device = tokens.device;
        return new ModelInputs(b, 1, 0,
            tokens.to(ScalarType.Int64).reshape(b, 1),
            localPositions.to(ScalarType.Int64).reshape(b, 1),
            empty([0], ScalarType.Int64, device),
            empty([0, 1], ScalarType.Float32, device),
            empty([0], ScalarType.Int64, device),
            empty([0], ScalarType.Int64, device));
    }

    private static void CheckRanges(ModelConfig config, long[] tokens, long[] localPositions, long[] rows, long[] cols, int patchDim)
    {
        if (patchDim != config.PatchDim)
            throw new ArgumentException($"patch vectors have {patchDim} values; the model expects PatchChannels x PatchSize^2 = {config.PatchDim}.");
        CheckAll(tokens, config.VocabSize, "tokens", "VocabSize");
        CheckAll(localPositions, config.MaxLocalPositions, "localPositions", "MaxLocalPositions");
        CheckAll(rows, config.MaxImageRows, "patchRows", "MaxImageRows");
        CheckAll(cols, config.MaxImageCols, "patchCols", "MaxImageCols");
    }

    private static void CheckAll(long[] values, int limit, string name, string limitName)
    {
        for (var i = 0; i < values.Length; i++)
            if (values[i] < 0 || values[i] >= limit)
                throw new ArgumentException($"{name}[{i}] ({values[i]}) must be in [0, {limit}) ({limitName}).");
    }

    private static void RequireLength<T>(T[] values, long expected, string name)
    {
        ArgumentNullException.ThrowIfNull(values, name);
        if (values.Length != expected)
            throw new ArgumentException($"{name} has {values.Length} values; expected {expected}.");
    }

    private static string Shape(Tensor t) => "(" + string.Join(", ", t.shape) + ")";

    public void Dispose()
    {
        Tokens.Dispose();
        LocalPositions.Dispose();
        PatchPositions.Dispose();
        Patches.Dispose();
        PatchRows.Dispose();
        PatchCols.Dispose();
    }
}

/// <summary>What the loss needs besides the inputs: next-token targets, the loss mask and task ids.</summary>
public sealed class LossTargets(Tensor targets, Tensor lossMask, Tensor taskIds, int taskCount) : IDisposable
{
    public Tensor Targets { get; } = targets;    // (B, T) int64
    public Tensor LossMask { get; } = lossMask;  // (B, T) float32, 1 on text and action targets
    public Tensor TaskIds { get; } = taskIds;    // (B, T) int64 in [0, TaskCount)
    public int TaskCount { get; } = taskCount;

    public static LossTargets From(PackedBatch batch, Device device)
    {
        ArgumentNullException.ThrowIfNull(batch);
        long[] shape = [batch.BatchSize, batch.ContextLength];
        var taskCount = Math.Max(1, batch.TaskNames.Count);
        foreach (var id in batch.TaskIds)
            if (id < 0 || id >= taskCount)
                throw new ArgumentException($"task id {id} is outside [0, {taskCount}) (TaskNames has {batch.TaskNames.Count} names).");
        return new LossTargets(
            tensor(batch.Targets, shape, ScalarType.Int64, device),
            tensor(batch.LossMask, shape, ScalarType.Float32, device),
            tensor(batch.TaskIds, shape, ScalarType.Int64, device),
            taskCount);
    }

    public void Dispose()
    {
        Targets.Dispose();
        LossMask.Dispose();
        TaskIds.Dispose();
    }
}
