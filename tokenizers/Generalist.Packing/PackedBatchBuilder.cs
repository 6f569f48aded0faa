using System.Runtime.InteropServices;
using System.Runtime.Intrinsics;
using Generalist.Tokenizers;

namespace Generalist.Packing;

/// <summary>
/// Fills the rows of one <see cref="PackedBatch"/> with whole units of tokenized episodes, then
/// derives targets, loss mask and padding (tokenizers/README.md, "Packing"). Units are never split:
/// <see cref="TryAppend"/> refuses units that do not fit in what is left of the row.
/// </summary>
public sealed class PackedBatchBuilder
{
    private readonly VocabularyLayout _vocab;
    private readonly long[] _tokens;
    private readonly TokenKind[]? _kinds; // only for action-history dropout: the packing hot path copies no kinds otherwise
    private readonly bool[] _loss;
    private readonly List<(int Offset, int Count)> _hiddenActions = [];
    private readonly long[] _positions;
    private readonly long[] _taskIds;
    private readonly long[] _patchIndex;
    private readonly int[] _rowLength;
    private float[] _patches = new float[1024];
    private long[] _patchRows = new long[64];
    private long[] _patchCols = new long[64];
    private int _patchCount;

    public int BatchSize { get; }
    public int ContextLength { get; }
    public int PatchSize { get; }
    public int PatchLength { get; }
    public IReadOnlyList<string> TaskNames { get; }

    /// <param name="tracksKinds">Keep each position's token kind, which <see cref="HideActionHistory"/> needs.</param>
    public PackedBatchBuilder(int batchSize, int contextLength, int patchSize, VocabularyLayout vocab, IReadOnlyList<string> taskNames, bool tracksKinds = false)
    {
        if (batchSize < 1) throw new ArgumentOutOfRangeException(nameof(batchSize), batchSize, "batch_size must be at least 1");
        if (contextLength < 2) throw new ArgumentOutOfRangeException(nameof(contextLength), contextLength, "context_length must be at least 2");
        _vocab = vocab;
        BatchSize = batchSize;
        ContextLength = contextLength;
        PatchSize = patchSize;
        PatchLength = ImagePatcher.Channels * patchSize * patchSize;
        TaskNames = taskNames;
        var n = batchSize * contextLength;
        _tokens = new long[n];
        _kinds = tracksKinds ? new TokenKind[n] : null;
        _loss = new bool[n];
        _positions = new long[n];
        _taskIds = new long[n];
        _patchIndex = new long[n];
        _rowLength = new int[batchSize];
    }

    public int RowLength(int row) => _rowLength[row];
    public int Remaining(int row) => ContextLength - _rowLength[row];

    /// <summary>Copies units [firstUnit, firstUnit + unitCount) of a sequence into a row if they fit whole.</summary>
    public bool TryAppend(int row, TokenizedEpisode seq, int firstUnit, int unitCount)
    {
        if (unitCount <= 0) return true;
        if ((uint)row >= (uint)BatchSize) throw new ArgumentOutOfRangeException(nameof(row));
        if (seq.PatchSize != PatchSize) throw new ArgumentException($"sequence patch size {seq.PatchSize} differs from the batch's {PatchSize}");
        if ((uint)seq.TaskId >= (uint)TaskNames.Count) throw new ArgumentException($"task id {seq.TaskId} is outside the batch's {TaskNames.Count} task names");
        var start = seq.UnitStart(firstUnit);
        var end = seq.UnitEnd(firstUnit + unitCount - 1);
        var n = end - start;
        if (n > Remaining(row)) return false;
        var patchStart = seq.UnitPatchStart(firstUnit);
        var patchEnd = seq.UnitPatchEnd(firstUnit + unitCount - 1);
        var patchBase = AddPatches(seq, patchStart, patchEnd - patchStart) - patchStart;

        var offset = row * ContextLength + _rowLength[row];
        var tokens = seq.Tokens.Slice(start, n);
        var loss = seq.LossFlags.Slice(start, n);
        var positions = seq.Positions.Slice(start, n);
        var patchRefs = seq.PatchRefs.Slice(start, n);
        Widen(tokens, _tokens.AsSpan(offset, n));
        if (_kinds is not null) seq.Kinds.Slice(start, n).CopyTo(_kinds.AsSpan(offset, n));
        Widen(positions, _positions.AsSpan(offset, n));
        var dstPatch = _patchIndex.AsSpan(offset, n);
        if (patchEnd == patchStart)
        {
            dstPatch.Fill(-1);
        }
        else
        {
            for (var i = 0; i < n; i++)
            {
                var p = patchRefs[i];
                dstPatch[i] = p < 0 ? -1 : p + patchBase;
            }
        }
        loss.CopyTo(_loss.AsSpan(offset, n));
        _taskIds.AsSpan(offset, n).Fill(seq.TaskId);
        _rowLength[row] += n;
        return true;
    }

    /// <summary>
    /// Action-history dropout on what the row holds so far: each timestep's action tokens are
    /// hidden with the given probability, one draw per timestep from <paramref name="rng"/>. A
    /// hidden action reads as the pad token to every later position, while the targets stay the
    /// original tokens, so the separator still learns the expert's action. A multi-token action's
    /// later tokens would be predicted from hidden inputs: those targets lose their loss.
    /// </summary>
    public void HideActionHistory(int row, double probability, ref SplitMix64 rng)
    {
        if ((uint)row >= (uint)BatchSize) throw new ArgumentOutOfRangeException(nameof(row));
        if (_kinds is null) throw new InvalidOperationException("this builder was created without tracksKinds, which action-history dropout needs");
        if (probability <= 0) return;
        var o = row * ContextLength;
        var kinds = _kinds.AsSpan(o, _rowLength[row]);
        for (var t = 0; t < kinds.Length;)
        {
            if (!kinds[t].IsAction()) { t++; continue; }
            var end = t;
            while (end < kinds.Length && kinds[end].IsAction()) end++;
            if (rng.NextDouble() < probability) _hiddenActions.Add((o + t, end - t));
            t = end;
        }
    }

    /// <summary>int to long, 8 lanes at a time where the CPU has 256-bit vectors.</summary>
    private static void Widen(ReadOnlySpan<int> source, Span<long> destination)
    {
        var i = 0;
        if (Vector256.IsHardwareAccelerated)
        {
            ref var src = ref MemoryMarshal.GetReference(source);
            ref var dst = ref MemoryMarshal.GetReference(destination);
            for (; i <= source.Length - Vector256<int>.Count; i += Vector256<int>.Count)
            {
                var v = Vector256.LoadUnsafe(ref src, (nuint)i);
                var (lower, upper) = Vector256.Widen(v);
                lower.StoreUnsafe(ref dst, (nuint)i);
                upper.StoreUnsafe(ref dst, (nuint)(i + Vector256<long>.Count));
            }
        }
        for (; i < source.Length; i++) destination[i] = source[i];
    }

    private int AddPatches(TokenizedEpisode seq, int first, int count)
    {
        var start = _patchCount;
        if (count == 0) return start;
        var needed = _patchCount + count;
        if (needed > _patchRows.Length)
        {
            var size = Math.Max(needed, _patchRows.Length * 2);
            Array.Resize(ref _patchRows, size);
            Array.Resize(ref _patchCols, size);
        }
        if ((long)needed * PatchLength > _patches.Length)
            Array.Resize(ref _patches, (int)Math.Max((long)needed * PatchLength, Math.Min(int.MaxValue / 2, (long)_patches.Length * 2)));
        seq.Patches.Slice(first * PatchLength, count * PatchLength).CopyTo(_patches.AsSpan(start * PatchLength));
        var rows = seq.PatchRows.Slice(first, count);
        var cols = seq.PatchCols.Slice(first, count);
        for (var i = 0; i < count; i++)
        {
            _patchRows[start + i] = rows[i];
            _patchCols[start + i] = cols[i];
        }
        _patchCount = needed;
        return start;
    }

    /// <summary>
    /// Finishes the batch: padding fills each row's tail (Pad token, position 0, no patch, the
    /// row's last task id); Targets[t] = Tokens[t + 1] and LossMask[t] = 1 exactly when position
    /// t + 1 of the row has its loss flag set (<see cref="TokenizedEpisode.LossFlags"/>). The
    /// builder must not be used afterwards.
    /// </summary>
    public PackedBatch Build()
    {
        int b = BatchSize, l = ContextLength;
        var targets = new long[b * l];
        var mask = new float[b * l];
        var pad = _vocab.Pad;
        for (var row = 0; row < b; row++)
        {
            var o = row * l;
            var len = _rowLength[row];
            var lastTask = len > 0 ? _taskIds[o + len - 1] : 0;
            _tokens.AsSpan(o + len, l - len).Fill(pad);
            _positions.AsSpan(o + len, l - len).Clear();
            _taskIds.AsSpan(o + len, l - len).Fill(lastTask);
            _patchIndex.AsSpan(o + len, l - len).Fill(-1);
            // Targets and task ids are the next position's; the mask is the next position's loss flag.
            _tokens.AsSpan(o + 1, l - 1).CopyTo(targets.AsSpan(o, l - 1));
            _taskIds.AsSpan(o + 1, l - 1).CopyTo(_taskIds.AsSpan(o, l - 1));
            // A bool is one byte, 0 or 1: read as bytes, the flag converts to the mask value without a branch.
            var flags = MemoryMarshal.AsBytes(_loss.AsSpan(o + 1, l - 1));
            var rowMask = mask.AsSpan(o, l - 1);
            var last = Math.Max(0, len - 1); // positions t >= len - 1 predict padding
            for (var t = 0; t < last; t++) rowMask[t] = flags[t];
            targets[o + l - 1] = pad;
        }
        // After the targets are taken: hidden actions change inputs only.
        foreach (var (offset, count) in _hiddenActions)
        {
            _tokens.AsSpan(offset, count).Fill(pad);
            // Targets offset+1 .. offset+count-1 (the action's later tokens) would be predicted from a hidden input.
            mask.AsSpan(offset, count - 1).Clear();
        }
        var patches = _patches.AsSpan(0, _patchCount * PatchLength).ToArray();
        return new PackedBatch(b, l, _tokens, targets, mask, _positions, _taskIds, _patchIndex,
            patches, _patchRows.AsSpan(0, _patchCount).ToArray(), _patchCols.AsSpan(0, _patchCount).ToArray(),
            _patchCount, PatchSize, ImagePatcher.Channels, TaskNames);
    }
}
