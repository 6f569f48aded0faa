using Generalist.Episodes;

namespace Generalist.Tokenizers;

/// <summary>
/// The input for choosing an action in a control rollout: the end of one demonstration episode,
/// then the current episode's recent timesteps, then the current observation and the separator.
/// The model then predicts action tokens at <see cref="ActionPosition"/>; each sampled token is
/// appended with <see cref="AppendActionToken"/> before predicting the next.
/// </summary>
public sealed class RolloutPrompt
{
    public TokenizedEpisode Sequence { get; }
    /// <summary>The local position every action token of the current timestep takes.</summary>
    public int ActionPosition { get; }
    /// <summary>The timestep index of the current timestep (history count).</summary>
    public int TimestepIndex { get; }
    public TokenKind ActionKind { get; }

    private RolloutPrompt(TokenizedEpisode sequence, int actionPosition, int timestepIndex, TokenKind actionKind)
    {
        Sequence = sequence;
        ActionPosition = actionPosition;
        TimestepIndex = timestepIndex;
        ActionKind = actionKind;
    }

    /// <summary>
    /// Builds the prompt within the builder's context length, leaving room for actionTokens − 1
    /// appended action tokens. Whole timesteps only: the current observation must fit; then as
    /// many of the latest history timesteps as fit; then as much of the demonstration's end as fits.
    /// </summary>
    public static RolloutPrompt Build(SequenceBuilder builder, Episode? demonstration, IReadOnlyList<Timestep> history,
        Observation current, int actionTokens, bool continuousAction, int taskId = 0)
    {
        ArgumentNullException.ThrowIfNull(builder);
        ArgumentNullException.ThrowIfNull(history);
        if (actionTokens < 1) throw new ArgumentOutOfRangeException(nameof(actionTokens), actionTokens, "action_tokens must be at least 1");
        var budget = builder.ContextLength - (actionTokens - 1);

        var now = new TokenizedEpisode(builder.PatchSize, taskId);
        builder.AppendTimesteps(now, history, 0, endOfEpisode: false);
        var historyUnits = now.UnitCount;
        now.BeginUnit();
        int n;
        try { n = builder.AppendObservation(now, current, history.Count); }
        catch (ArgumentException e) when (e.ParamName is null) { throw new ArgumentException($"current.{e.Message}"); }
        builder.AppendSeparator(now, n, history.Count);
        var currentLength = now.UnitLength(historyUnits);
        if (currentLength > budget)
            throw new ArgumentException($"current observation takes {currentLength} tokens; with {actionTokens} action tokens it does not fit the context length {builder.ContextLength}");

        var firstHistory = now.FirstUnitOfSuffixFitting(0, historyUnits, budget - currentLength);
        var used = currentLength;
        for (var u = firstHistory; u < historyUnits; u++) used += now.UnitLength(u);

        var result = new TokenizedEpisode(builder.PatchSize, taskId);
        if (demonstration is not null)
        {
            var demo = builder.Build(demonstration, taskId);
            var firstDemo = demo.FirstUnitOfSuffixFitting(0, demo.UnitCount, budget - used);
            result.AppendUnits(demo, firstDemo, demo.UnitCount - firstDemo);
        }
        result.AppendUnits(now, firstHistory, historyUnits + 1 - firstHistory);
        result.TimestepCount = history.Count + 1;
        return new RolloutPrompt(result, n + 1, history.Count, continuousAction ? TokenKind.ActionContinuous : TokenKind.ActionDiscrete);
    }

    /// <summary>Appends a sampled action token (its id, already offset) to the current timestep.</summary>
    public void AppendActionToken(int token) => Sequence.AppendToken(token, ActionKind, ActionPosition, TimestepIndex);
}
