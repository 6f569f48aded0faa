namespace Generalist.Tokenizers;

/// <summary>
/// Episodes to token sequences, exactly as tokenizers/README.md specifies. Per timestep:
/// observation tokens (text, then image patches in raster order, then discrete values, then
/// continuous values) with local positions 0..n-1; then, only when the timestep has an action, the
/// separator (position n) and the action tokens (all at position n + 1). An episode ends with the
/// end-of-episode token (position after the timestep's last). Units longer than the context length
/// (only very long text should be) are cut into context-sized pieces.
/// Thread-safe: it holds only immutable state (the text model and the patcher's lookup table).
/// </summary>
public sealed class SequenceBuilder
{
    private readonly TextTokenizer _text;
    private readonly ImagePatcher _patcher;

    public VocabularyLayout Vocab { get; }
    public int ContextLength { get; }
    public int PatchSize => _patcher.PatchSize;

    public SequenceBuilder(VocabularyLayout vocab, int contextLength, int patchSize = 16, TextTokenizer? text = null)
    {
        ArgumentNullException.ThrowIfNull(vocab);
        if (contextLength is < 4 or > 1 << 20) throw new ArgumentOutOfRangeException(nameof(contextLength), contextLength, "context_length must be in [4, 1048576]");
        _text = text ?? TextTokenizer.Default;
        if (_text.VocabSize != vocab.TextVocabSize)
            throw new ArgumentException($"text_vocab_size {vocab.TextVocabSize} does not match the text tokenizer's {_text.VocabSize} pieces");
        _patcher = new ImagePatcher(patchSize);
        Vocab = vocab;
        ContextLength = contextLength;
    }

    public TextTokenizer Text => _text;
    public ImagePatcher Patcher => _patcher;

    /// <summary>Tokenizes a whole episode, ending with the end-of-episode token.</summary>
    public TokenizedEpisode Build(Episode episode, int taskId = 0, TokenizedEpisode? into = null)
    {
        ArgumentNullException.ThrowIfNull(episode);
        var seq = into ?? new TokenizedEpisode(PatchSize, taskId);
        if (seq.PatchSize != PatchSize) throw new ArgumentException($"sequence patch size {seq.PatchSize} differs from the builder's {PatchSize}");
        seq.Clear();
        seq.TaskId = taskId;
        if (episode.Timesteps is null || episode.Timesteps.Count == 0)
            throw new ArgumentException($"episode of task '{episode.Task}': timesteps must hold at least one timestep");
        AppendTimesteps(seq, episode.Timesteps, 0, endOfEpisode: true);
        return seq;
    }

    /// <summary>
    /// Appends timesteps (each its own unit) to a sequence, optionally ending the episode.
    /// Timestep indices are numbered from <paramref name="firstTimestepIndex"/>.
    /// </summary>
    public void AppendTimesteps(TokenizedEpisode seq, IReadOnlyList<Timestep> timesteps, int firstTimestepIndex, bool endOfEpisode)
    {
        var firstUnit = seq.UnitCount;
        for (var t = 0; t < timesteps.Count; t++)
        {
            var step = timesteps[t] ?? throw new ArgumentException($"timesteps[{t}] must not be null");
            try
            {
                AppendTimestep(seq, step, firstTimestepIndex + t, endOfEpisode && t == timesteps.Count - 1);
            }
            catch (ArgumentException e) when (e.ParamName is null)
            {
                // Field names are only built on this error path: the hot loop allocates no strings.
                throw new ArgumentException($"timesteps[{t}].{e.Message}");
            }
        }
        seq.TimestepCount += timesteps.Count;
        seq.CutUnitsLongerThan(firstUnit, ContextLength);
    }

    private void AppendTimestep(TokenizedEpisode seq, Timestep step, int timestep, bool endOfEpisode)
    {
        seq.BeginUnit();
        var next = AppendObservation(seq, step.Observation, timestep);
        if (step.Action is { } action)
        {
            var sep = seq.Grow(1);
            seq.SetToken(sep, Vocab.Separator);
            seq.Fill(sep, 1, TokenKind.Separator, next, sharedPosition: true, timestep);
            AppendAction(seq, action, timestep, next + 1);
            next += 2;
        }
        if (endOfEpisode)
        {
            var eoe = seq.Grow(1);
            seq.SetToken(eoe, Vocab.EndOfEpisode);
            seq.Fill(eoe, 1, TokenKind.EndOfEpisode, next, sharedPosition: true, timestep);
        }
    }

    /// <summary>
    /// Appends one observation's tokens (no unit is started) and returns n, the number of
    /// observation tokens, which is the separator's local position.
    /// </summary>
    public int AppendObservation(TokenizedEpisode seq, Observation observation, int timestepIndex)
    {
        if (observation is null) throw new ArgumentException("observation must not be null");
        var position = 0;
        if (!string.IsNullOrEmpty(observation.Text))
        {
            var ids = _text.Encode(observation.Text);
            var start = seq.Grow(ids.Length);
            ids.CopyTo(seq.TokenSpan(start, ids.Length));
            seq.Fill(start, ids.Length, TokenKind.Text, position, sharedPosition: false, timestepIndex);
            position += ids.Length;
        }
        if (observation.Image is { } image)
        {
            ImagePatcher.Validate(image);
            int rows = _patcher.PatchRows(image), cols = _patcher.PatchCols(image), n = rows * cols;
            var start = seq.Grow(n);
            seq.TokenSpan(start, n).Fill(Vocab.Pad);
            seq.Fill(start, n, TokenKind.Patch, position, sharedPosition: false, timestepIndex);
            var firstPatch = seq.GrowPatches(n);
            _patcher.Patchify(image, seq.PatchSpan(firstPatch, n));
            for (var i = 0; i < n; i++)
            {
                seq.SetPatchRef(start + i, firstPatch + i);
                seq.SetPatchPlace(firstPatch + i, i / cols, i % cols);
            }
            position += n;
        }
        if (observation.Discrete is { Length: > 0 } discrete)
        {
            var start = seq.Grow(discrete.Length);
            DiscreteTokenizer.Encode(discrete, seq.TokenSpan(start, discrete.Length), Vocab.DiscreteOffset);
            seq.Fill(start, discrete.Length, TokenKind.Discrete, position, sharedPosition: false, timestepIndex);
            position += discrete.Length;
        }
        if (observation.Continuous is { Length: > 0 } continuous)
        {
            var start = seq.Grow(continuous.Length);
            ContinuousTokenizer.EncodeObservation(continuous, seq.TokenSpan(start, continuous.Length), Vocab.ContinuousOffset);
            seq.Fill(start, continuous.Length, TokenKind.Continuous, position, sharedPosition: false, timestepIndex);
            position += continuous.Length;
        }
        return position;
    }

    /// <summary>Appends the separator for a rollout prompt: observation done, the action comes next.</summary>
    public void AppendSeparator(TokenizedEpisode seq, int observationTokens, int timestepIndex)
    {
        var sep = seq.Grow(1);
        seq.SetToken(sep, Vocab.Separator);
        seq.Fill(sep, 1, TokenKind.Separator, observationTokens, sharedPosition: true, timestepIndex);
    }

    private void AppendAction(TokenizedEpisode seq, ActionValue action, int timestepIndex, int position)
    {
        var hasDiscrete = action.Discrete is { Length: > 0 };
        var hasContinuous = action.Continuous is { Length: > 0 };
        if (hasDiscrete == hasContinuous)
            throw new ArgumentException("action must hold exactly one of discrete or continuous, with at least one value");
        if (hasDiscrete)
        {
            var values = action.Discrete!;
            var start = seq.Grow(values.Length);
            DiscreteTokenizer.Encode(values, seq.TokenSpan(start, values.Length), Vocab.DiscreteOffset, "action.discrete");
            seq.Fill(start, values.Length, TokenKind.ActionDiscrete, position, sharedPosition: true, timestepIndex);
        }
        else
        {
            var values = action.Continuous!;
            var start = seq.Grow(values.Length);
            ContinuousTokenizer.EncodeAction(values, seq.TokenSpan(start, values.Length), Vocab.ContinuousOffset, "action.continuous");
            seq.Fill(start, values.Length, TokenKind.ActionContinuous, position, sharedPosition: true, timestepIndex);
        }
    }
}
