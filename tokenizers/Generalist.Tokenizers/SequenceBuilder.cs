using Generalist.Episodes;

namespace Generalist.Tokenizers;

/// <summary>
/// Episodes to token sequences, exactly as tokenizers/README.md specifies. Per timestep:
/// observation tokens (text, then image patches in raster order, then discrete values, then
/// continuous values) with local positions 0..n-1; then, only when the timestep has an action, the
/// separator (position n) and the action tokens (all at position n + 1). An episode ends with the
/// end-of-episode token (position after the timestep's last). Units longer than the context length
/// (only very long text should be) are cut into context-sized pieces.
/// Loss flags (tokenizers/README.md, "Loss mask"): text tokens of a timestep without an action; action tokens when the timestep's
/// <see cref="Timestep.ActionScored"/> is true; the end of episode only when the final timestep has
/// text and no action (a caption or a document, so generation learns to stop). Nothing else.
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
        AppendTokens(seq, step.Observation, step.Action, step.ActionScored, timestep, endOfEpisode);
    }

    /// <summary>
    /// Appends one observation's tokens (no unit is started) and returns n, the number of
    /// observation tokens, which is the separator's local position.
    /// </summary>
    public int AppendObservation(TokenizedEpisode seq, Observation observation, int timestepIndex) =>
        AppendTokens(seq, observation, null, actionScored: false, timestepIndex, endOfEpisode: false);

    /// <summary>
    /// The hot path: one timestep's tokens written in a single pass (one reservation, one fill of
    /// the per-position columns, then each segment). Returns n, the observation token count.
    /// </summary>
    private int AppendTokens(TokenizedEpisode seq, Observation observation, ActionValue? action, bool actionScored, int timestep, bool endOfEpisode)
    {
        if (observation is null) throw new ArgumentException("observation must not be null");
        var textIds = string.IsNullOrEmpty(observation.Text) ? [] : _text.Encode(observation.Text);
        var image = observation.Image;
        int patchRows = 0, patchCols = 0;
        if (image is not null)
        {
            ImagePatcher.Validate(image);
            patchRows = _patcher.PatchRows(image);
            patchCols = _patcher.PatchCols(image);
        }
        var patches = patchRows * patchCols;
        var discrete = observation.Discrete ?? [];
        var continuous = observation.Continuous ?? [];
        var n = textIds.Length + patches + discrete.Length + continuous.Length;

        int[]? actionDiscrete = null;
        float[]? actionContinuous = null;
        var actionCount = 0;
        if (action is not null)
        {
            var hasDiscrete = action.Discrete is { Length: > 0 };
            var hasContinuous = action.Continuous is { Length: > 0 };
            if (hasDiscrete == hasContinuous)
                throw new ArgumentException("action must hold exactly one of discrete or continuous, with at least one value");
            actionDiscrete = hasDiscrete ? action.Discrete : null;
            actionContinuous = hasContinuous ? action.Continuous : null;
            actionCount = 1 + (actionDiscrete?.Length ?? actionContinuous!.Length);
        }
        var total = n + actionCount + (endOfEpisode ? 1 : 0);
        var start = seq.Grow(total);
        var tokens = seq.TokenSpan(start, total);
        var kinds = seq.KindSpan(start, total);
        var loss = seq.LossSpan(start, total);
        var positions = seq.PositionSpan(start, total);
        seq.TimestepSpan(start, total).Fill(timestep);
        seq.PatchRefSpan(start, total).Fill(-1);
        loss.Clear();
        for (var i = 0; i < n; i++) positions[i] = i;

        var at = 0;
        if (textIds.Length > 0)
        {
            textIds.CopyTo(tokens);
            kinds[..textIds.Length].Fill(TokenKind.Text);
            // Text the agent reads before acting (a control task's mission) is an observation, not
            // something the model generates: it carries no loss. Measured on gridnav (envs/DATA.md):
            // scored missions were 6 of every 7 scored tokens and the action loss sat at ln 4.
            if (actionCount == 0) loss[..textIds.Length].Fill(true);
            at = textIds.Length;
        }
        if (patches > 0)
        {
            tokens.Slice(at, patches).Fill(Vocab.Pad);
            kinds.Slice(at, patches).Fill(TokenKind.Patch);
            var firstPatch = seq.GrowPatches(patches);
            _patcher.Patchify(image!, seq.PatchSpan(firstPatch, patches));
            var refs = seq.PatchRefSpan(start + at, patches);
            for (var i = 0; i < patches; i++)
            {
                refs[i] = firstPatch + i;
                seq.SetPatchPlace(firstPatch + i, i / patchCols, i % patchCols);
            }
            at += patches;
        }
        if (discrete.Length > 0)
        {
            DiscreteTokenizer.Encode(discrete, tokens.Slice(at, discrete.Length), Vocab.DiscreteOffset);
            kinds.Slice(at, discrete.Length).Fill(TokenKind.Discrete);
            at += discrete.Length;
        }
        if (continuous.Length > 0)
        {
            ContinuousTokenizer.EncodeObservation(continuous, tokens.Slice(at, continuous.Length), Vocab.ContinuousOffset);
            kinds.Slice(at, continuous.Length).Fill(TokenKind.Continuous);
            at += continuous.Length;
        }
        if (actionCount > 0)
        {
            tokens[at] = Vocab.Separator;
            kinds[at] = TokenKind.Separator;
            positions[at] = n;
            at++;
            var a = actionCount - 1;
            if (actionDiscrete is not null)
            {
                DiscreteTokenizer.Encode(actionDiscrete, tokens.Slice(at, a), Vocab.DiscreteOffset, "action.discrete");
                kinds.Slice(at, a).Fill(TokenKind.ActionDiscrete);
            }
            else
            {
                ContinuousTokenizer.EncodeAction(actionContinuous!, tokens.Slice(at, a), Vocab.ContinuousOffset, "action.continuous");
                kinds.Slice(at, a).Fill(TokenKind.ActionContinuous);
            }
            if (actionScored) loss.Slice(at, a).Fill(true);
            positions.Slice(at, a).Fill(n + 1);
            at += a;
        }
        if (endOfEpisode)
        {
            tokens[at] = Vocab.EndOfEpisode;
            kinds[at] = TokenKind.EndOfEpisode;
            // Stopping is learned only where the model generates free text: after a final text
            // timestep. After a control action the episode's end is the environment's call.
            loss[at] = actionCount == 0 && textIds.Length > 0;
            positions[at] = actionCount > 0 ? n + 2 : n;
        }
        return n;
    }

    /// <summary>Appends the separator for a rollout prompt: observation done, the action comes next.</summary>
    public void AppendSeparator(TokenizedEpisode seq, int observationTokens, int timestepIndex)
    {
        var sep = seq.Grow(1);
        seq.SetToken(sep, Vocab.Separator);
        seq.Fill(sep, 1, TokenKind.Separator, loss: false, observationTokens, sharedPosition: true, timestepIndex);
    }
}
