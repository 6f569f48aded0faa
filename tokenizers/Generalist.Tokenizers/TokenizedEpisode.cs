namespace Generalist.Tokenizers;

/// <summary>
/// A tokenized episode (or any sequence of timesteps): one entry per position, stored as parallel
/// arrays so packing is plain span copies. Per position: the token id (Pad at patch positions),
/// its <see cref="TokenKind"/>, its loss flag (set by <see cref="SequenceBuilder"/>: text tokens,
/// action tokens of scored timesteps, and the end of episode after a final text timestep; see
/// tokenizers/README.md, "Loss mask"), its local position, the index of the timestep it came from, and for patches the row in
/// <see cref="Patches"/>. The episode's task id applies to every position.
/// Units are the pieces packing may not split: one per timestep, except that a timestep longer
/// than the context length is cut into context-sized units (tokenizers/README.md, "Packing").
/// </summary>
public sealed class TokenizedEpisode
{
    private int[] _tokens;
    private TokenKind[] _kinds;
    private bool[] _loss;
    private int[] _positions;
    private int[] _timesteps;
    private int[] _patchRefs;
    private float[] _patches;
    private int[] _patchRows;
    private int[] _patchCols;
    private int[] _unitStarts;   // unit u covers positions [_unitStarts[u], _unitStarts[u + 1])
    private int[] _unitPatchStarts;

    public TokenizedEpisode(int patchSize, int taskId = 0, int capacity = 256)
    {
        PatchSize = patchSize;
        PatchLength = ImagePatcher.Channels * patchSize * patchSize;
        TaskId = taskId;
        _tokens = new int[capacity];
        _kinds = new TokenKind[capacity];
        _loss = new bool[capacity];
        _positions = new int[capacity];
        _timesteps = new int[capacity];
        _patchRefs = new int[capacity];
        _patches = [];
        _patchRows = [];
        _patchCols = [];
        _unitStarts = new int[16];
        _unitPatchStarts = new int[16];
    }

    public int TaskId { get; set; }
    public int PatchSize { get; }
    public int PatchLength { get; }
    public int Length { get; private set; }
    public int PatchCount { get; private set; }
    public int UnitCount { get; private set; }
    /// <summary>Number of timesteps of the source (units may be more when a long timestep was cut).</summary>
    public int TimestepCount { get; internal set; }

    public ReadOnlySpan<int> Tokens => _tokens.AsSpan(0, Length);
    public ReadOnlySpan<TokenKind> Kinds => _kinds.AsSpan(0, Length);
    /// <summary>Per position: whether the model is trained to predict this token (the loss mask of the position before it).</summary>
    public ReadOnlySpan<bool> LossFlags => _loss.AsSpan(0, Length);
    public ReadOnlySpan<int> Positions => _positions.AsSpan(0, Length);
    public ReadOnlySpan<int> TimestepIndices => _timesteps.AsSpan(0, Length);
    /// <summary>-1, or the patch's row in <see cref="Patches"/>.</summary>
    public ReadOnlySpan<int> PatchRefs => _patchRefs.AsSpan(0, Length);
    /// <summary>(PatchCount, PatchLength) normalized pixels.</summary>
    public ReadOnlySpan<float> Patches => _patches.AsSpan(0, PatchCount * PatchLength);
    public ReadOnlySpan<int> PatchRows => _patchRows.AsSpan(0, PatchCount);
    public ReadOnlySpan<int> PatchCols => _patchCols.AsSpan(0, PatchCount);

    /// <summary>The loss flag of one position (see <see cref="LossFlags"/>).</summary>
    public bool Loss(int position) => (uint)position < (uint)Length ? _loss[position] : throw new ArgumentOutOfRangeException(nameof(position));
    public int UnitStart(int unit) => _unitStarts[unit];
    public int UnitEnd(int unit) => unit + 1 < UnitCount ? _unitStarts[unit + 1] : Length;
    public int UnitLength(int unit) => UnitEnd(unit) - UnitStart(unit);

    /// <summary>The first unit u in [from, to) such that units [u, to) fit in budget tokens (to when none fits):
    /// where a suffix of whole timesteps that fits a context starts.</summary>
    public int FirstUnitOfSuffixFitting(int from, int to, int budget)
    {
        var u = to;
        var used = 0;
        while (u > from && used + UnitLength(u - 1) <= budget)
        {
            used += UnitLength(u - 1);
            u--;
        }
        return u;
    }
    public int UnitPatchStart(int unit) => _unitPatchStarts[unit];
    public int UnitPatchEnd(int unit) => unit + 1 < UnitCount ? _unitPatchStarts[unit + 1] : PatchCount;

    /// <summary>Bytes held, for cache budgets.</summary>
    public long ApproximateBytes => (long)Length * 18 + (long)PatchCount * (PatchLength * 4 + 8) + UnitCount * 8L;

    /// <summary>Empties the sequence, keeping its buffers.</summary>
    public void Clear()
    {
        Length = 0;
        PatchCount = 0;
        UnitCount = 0;
        TimestepCount = 0;
    }

    // ---- building (used by SequenceBuilder and the rollout prompt) ----

    internal void BeginUnit()
    {
        if (UnitCount == _unitStarts.Length)
        {
            Array.Resize(ref _unitStarts, UnitCount * 2);
            Array.Resize(ref _unitPatchStarts, UnitCount * 2);
        }
        _unitStarts[UnitCount] = Length;
        _unitPatchStarts[UnitCount] = PatchCount;
        UnitCount++;
    }

    /// <summary>Reserves n positions and returns the index of the first.</summary>
    internal int Grow(int n)
    {
        var needed = Length + n;
        if (needed > _tokens.Length)
        {
            var size = Math.Max(needed, _tokens.Length * 2);
            Array.Resize(ref _tokens, size);
            Array.Resize(ref _kinds, size);
            Array.Resize(ref _loss, size);
            Array.Resize(ref _positions, size);
            Array.Resize(ref _timesteps, size);
            Array.Resize(ref _patchRefs, size);
        }
        var start = Length;
        Length = needed;
        return start;
    }

    internal Span<int> TokenSpan(int start, int n) => _tokens.AsSpan(start, n);
    internal Span<TokenKind> KindSpan(int start, int n) => _kinds.AsSpan(start, n);
    internal Span<bool> LossSpan(int start, int n) => _loss.AsSpan(start, n);
    internal Span<int> PositionSpan(int start, int n) => _positions.AsSpan(start, n);
    internal Span<int> TimestepSpan(int start, int n) => _timesteps.AsSpan(start, n);
    internal Span<int> PatchRefSpan(int start, int n) => _patchRefs.AsSpan(start, n);

    /// <summary>Fills kind, loss flag, position (first + i, or one shared position), timestep and no patch for n positions.</summary>
    internal void Fill(int start, int n, TokenKind kind, bool loss, int firstPosition, bool sharedPosition, int timestep)
    {
        _kinds.AsSpan(start, n).Fill(kind);
        _loss.AsSpan(start, n).Fill(loss);
        var positions = _positions.AsSpan(start, n);
        if (sharedPosition) positions.Fill(firstPosition);
        else for (var i = 0; i < positions.Length; i++) positions[i] = firstPosition + i;
        _timesteps.AsSpan(start, n).Fill(timestep);
        _patchRefs.AsSpan(start, n).Fill(-1);
    }

    internal void SetToken(int index, int token) => _tokens[index] = token;

    /// <summary>Reserves n patches (rows, cols set by the caller) and returns the first patch index.</summary>
    internal int GrowPatches(int n)
    {
        var needed = PatchCount + n;
        if (needed > _patchRows.Length)
        {
            var size = Math.Max(needed, _patchRows.Length * 2);
            Array.Resize(ref _patches, size * PatchLength);
            Array.Resize(ref _patchRows, size);
            Array.Resize(ref _patchCols, size);
        }
        var start = PatchCount;
        PatchCount = needed;
        return start;
    }

    internal Span<float> PatchSpan(int firstPatch, int n) => _patches.AsSpan(firstPatch * PatchLength, n * PatchLength);
    internal void SetPatchPlace(int patch, int row, int col) { _patchRows[patch] = row; _patchCols[patch] = col; }
    internal void SetPatchRef(int index, int patch) => _patchRefs[index] = patch;
    internal void SetPosition(int index, int position) => _positions[index] = position;

    /// <summary>Appends units [firstUnit, firstUnit + count) of another sequence (same patch size) as whole units.</summary>
    public void AppendUnits(TokenizedEpisode source, int firstUnit, int count)
    {
        if (source.PatchSize != PatchSize) throw new ArgumentException($"patch size {source.PatchSize} differs from {PatchSize}");
        for (var u = firstUnit; u < firstUnit + count; u++)
        {
            BeginUnit();
            int start = source.UnitStart(u), n = source.UnitLength(u);
            int patchStart = source.UnitPatchStart(u), patches = source.UnitPatchEnd(u) - patchStart;
            var firstPatch = GrowPatches(patches);
            source.Patches.Slice(patchStart * PatchLength, patches * PatchLength).CopyTo(PatchSpan(firstPatch, patches));
            source.PatchRows.Slice(patchStart, patches).CopyTo(_patchRows.AsSpan(firstPatch));
            source.PatchCols.Slice(patchStart, patches).CopyTo(_patchCols.AsSpan(firstPatch));
            var at = Grow(n);
            source.Tokens.Slice(start, n).CopyTo(_tokens.AsSpan(at));
            source.Kinds.Slice(start, n).CopyTo(_kinds.AsSpan(at));
            source.LossFlags.Slice(start, n).CopyTo(_loss.AsSpan(at));
            source.Positions.Slice(start, n).CopyTo(_positions.AsSpan(at));
            source.TimestepIndices.Slice(start, n).CopyTo(_timesteps.AsSpan(at));
            var refs = source.PatchRefs.Slice(start, n);
            for (var i = 0; i < n; i++) _patchRefs[at + i] = refs[i] < 0 ? -1 : refs[i] - patchStart + firstPatch;
        }
    }

    /// <summary>
    /// Appends one token with explicit fields to the current unit (rollouts append sampled action
    /// tokens this way). Its loss flag is <paramref name="loss"/>, or by default what its kind
    /// carries (<see cref="TokenKinds.CarriesLoss"/>: text and action tokens).
    /// </summary>
    public void AppendToken(int token, TokenKind kind, int position, int timestep, bool? loss = null)
    {
        if (kind == TokenKind.Patch) throw new ArgumentException("patches are appended with their pixels, not as a token");
        if (UnitCount == 0) BeginUnit();
        var at = Grow(1);
        _tokens[at] = token;
        Fill(at, 1, kind, loss ?? kind.CarriesLoss(), position, sharedPosition: true, timestep);
    }

    /// <summary>Cuts every unit longer than maxUnitLength into pieces of at most that length,
    /// renumbering local positions 0..n-1 within each piece.</summary>
    internal void CutUnitsLongerThan(int firstUnit, int maxUnitLength)
    {
        for (var u = firstUnit; u < UnitCount; u++)
        {
            var start = UnitStart(u);
            var length = UnitLength(u);
            if (length <= maxUnitLength) continue;
            var pieces = (length + maxUnitLength - 1) / maxUnitLength;
            var insert = pieces - 1;
            if (UnitCount + insert > _unitStarts.Length)
            {
                Array.Resize(ref _unitStarts, (UnitCount + insert) * 2);
                Array.Resize(ref _unitPatchStarts, (UnitCount + insert) * 2);
            }
            Array.Copy(_unitStarts, u + 1, _unitStarts, u + 1 + insert, UnitCount - u - 1);
            Array.Copy(_unitPatchStarts, u + 1, _unitPatchStarts, u + 1 + insert, UnitCount - u - 1);
            UnitCount += insert;
            var patch = _unitPatchStarts[u];
            for (var k = 0; k < pieces; k++)
            {
                var pieceStart = start + k * maxUnitLength;
                var pieceEnd = Math.Min(start + length, pieceStart + maxUnitLength);
                _unitStarts[u + k] = pieceStart;
                _unitPatchStarts[u + k] = patch;
                for (var i = pieceStart; i < pieceEnd; i++)
                {
                    _positions[i] = i - pieceStart;
                    if (_kinds[i] == TokenKind.Patch) patch++;
                }
            }
            u += insert;
        }
    }
}
