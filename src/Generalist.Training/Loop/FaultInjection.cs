namespace Generalist.Training.Loop;

/// <summary>
/// Deliberate faults for reliability tests (never set from a run config): a non-finite loss at
/// given steps, a loss spike at given steps, or an exception at a checkpoint-writing phase.
/// Injection happens inside the real step (the loss tensor is multiplied before backward), so the
/// detection and recovery paths run exactly as they would for a real fault.
/// </summary>
public sealed record FaultInjection
{
    /// <summary>Steps (1-based) whose loss becomes NaN (and so do the gradients).</summary>
    public IReadOnlySet<long> NanAtSteps { get; init; } = new HashSet<long>();
    /// <summary>Steps whose loss (and gradients) are multiplied by <see cref="SpikeFactor"/>.</summary>
    public IReadOnlySet<long> SpikeAtSteps { get; init; } = new HashSet<long>();
    public double SpikeFactor { get; init; } = 100.0;
    /// <summary>Called at each checkpoint-writing phase (<see cref="CheckpointPhases"/>) with the step being saved.</summary>
    public Action<long, string>? CheckpointPhase { get; init; }

    public static FaultInjection None { get; } = new();

    /// <summary>The phases of a checkpoint write, in order (see CheckpointStore.PhaseHook).</summary>
    public static IReadOnlyList<string> CheckpointPhases { get; } = ["model-data-written", "model-written", "optimizer-written", "state-written", "renamed"];

    internal double LossMultiplier(long step) =>
        NanAtSteps.Contains(step) ? double.NaN : SpikeAtSteps.Contains(step) ? SpikeFactor : 1.0;
}
