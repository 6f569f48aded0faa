using Generalist.Episodes;

namespace Generalist.Packing;

/// <summary>One task of the training mixture: its name (task ids index these in order), its sampling weight, its episodes.</summary>
public sealed record TaskStream(string Name, double Weight, IEpisodeSource Episodes);

/// <summary>
/// Loader settings. ContextLength L: tokens per row. BatchSize: rows per batch. PatchSize P of
/// image patches. PromptProbability: chance that a control row starts with a demonstration
/// (Gato: 0.25). Seed: every batch is a pure function of (Seed, batch number, tasks).
/// BatchesPerStep: batches per optimizer step (grad_accum), so that a staged source's curriculum
/// follows optimizer steps rather than micro-batches. ActionHistoryDropout: chance that a control
/// timestep's action tokens are hidden as history (tokenizers/README.md, "Action-history dropout").
/// </summary>
public sealed record LoaderOptions(int ContextLength, int BatchSize, int PatchSize, double PromptProbability, long Seed, int BatchesPerStep = 1)
{
    public const double DefaultPromptProbability = 0.25;

    /// <summary>
    /// Probability in [0, 1) that a control timestep's action tokens are read as the pad token by
    /// the positions after them (their targets stay the expert's action), so the model cannot lean
    /// on copying its action history. 0 = off: batches are those of a loader without the option.
    /// </summary>
    public double ActionHistoryDropout { get; init; }

    /// <summary>Throws an ArgumentException naming the first invalid field and its allowed range.</summary>
    public void Validate()
    {
        if (ContextLength is < 4 or > 1 << 20) throw new ArgumentException($"context_length must be in [4, 1048576] (got {ContextLength})");
        if (BatchSize is < 1 or > 1 << 16) throw new ArgumentException($"batch_size must be in [1, 65536] (got {BatchSize})");
        if (PatchSize is < 1 or > 256) throw new ArgumentException($"patch_size must be in [1, 256] (got {PatchSize})");
        if (!(PromptProbability >= 0 && PromptProbability <= 1)) throw new ArgumentException($"prompt_probability must be in [0, 1] (got {PromptProbability})");
        if (BatchesPerStep < 1) throw new ArgumentException($"batches per step must be >= 1 (got {BatchesPerStep})");
        if (!(ActionHistoryDropout >= 0 && ActionHistoryDropout < 1)) throw new ArgumentException($"action_history_dropout must be in [0, 1) (got {ActionHistoryDropout})");
    }
}

/// <summary>
/// The loader's position, saved in checkpoints (System.Text.Json). Batches are pure functions of
/// the seed and batch number, so the position is the next batch number; Fingerprint records the
/// configuration it is valid for (options, task names, weights, episode counts).
/// </summary>
public sealed record LoaderCursor(long Seed, long NextBatch, string Fingerprint);
