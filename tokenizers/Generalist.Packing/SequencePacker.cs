using Generalist.Tokenizers;

namespace Generalist.Packing;

/// <summary>
/// Packing of given sequences into a batch, for evaluation and rollouts (the training loader uses
/// <see cref="PackedBatchBuilder"/> directly).
/// </summary>
public static class SequencePacker
{
    /// <summary>
    /// One row per sequence. A sequence longer than the context keeps its last units that fit
    /// (the most recent timesteps); whole units only.
    /// </summary>
    public static PackedBatch Pack(IReadOnlyList<TokenizedEpisode> sequences, int contextLength, VocabularyLayout vocab, IReadOnlyList<string> taskNames)
    {
        if (sequences.Count == 0) throw new ArgumentException("sequences must hold at least one sequence");
        var patchSize = sequences[0].PatchSize;
        var builder = new PackedBatchBuilder(sequences.Count, contextLength, patchSize, vocab, taskNames);
        for (var row = 0; row < sequences.Count; row++)
        {
            var seq = sequences[row];
            var first = seq.FirstUnitOfSuffixFitting(0, seq.UnitCount, contextLength);
            builder.TryAppend(row, seq, first, seq.UnitCount - first);
        }
        return builder.Build();
    }

    /// <summary>A single sequence as a batch of one row exactly as long as the sequence (no padding), for a forward pass.</summary>
    public static PackedBatch PackOne(TokenizedEpisode sequence, VocabularyLayout vocab, IReadOnlyList<string> taskNames) =>
        Pack([sequence], Math.Max(2, sequence.Length), vocab, taskNames);


    /// <summary>How many units starting at <paramref name="from"/> fit in budget tokens.</summary>
    public static int UnitsFitting(TokenizedEpisode seq, int from, int budget)
    {
        var u = from;
        var used = 0;
        while (u < seq.UnitCount && used + seq.UnitLength(u) <= budget)
        {
            used += seq.UnitLength(u);
            u++;
        }
        return u - from;
    }
}
