using Generalist.Model;
using Generalist.Tokenizers;
using TorchSharp;
using static TorchSharp.torch;

namespace Generalist.Evaluation.Scoring;

/// <summary>
/// Teacher-forced scores of one tokenized sequence. Index j refers to the token at position j,
/// predicted from the positions before it in its window: Nats[j] = -log p(token j), Argmax[j] the
/// most likely token there (NaN / -1 where j starts a window and is not predicted).
/// RangeLogProbs[j] holds log-probabilities over a requested token range (e.g. the action bins).
/// </summary>
public sealed class ScoredSequence(TokenizedEpisode sequence)
{
    public TokenizedEpisode Sequence { get; } = sequence;
    public float[] Nats { get; } = Enumerable.Repeat(float.NaN, sequence.Length).ToArray();
    public int[] Argmax { get; } = Enumerable.Repeat(-1, sequence.Length).ToArray();
    public Dictionary<int, float[]> RangeLogProbs { get; } = [];
}

/// <summary>
/// Runs the model over whole sequences in context-sized windows. Every window starts on a timestep
/// boundary, as training rows do (a window starting mid-timestep would show the model a context
/// it never trained on, e.g. a rating without its movie): the next window starts at the last
/// timestep boundary inside the current one, and each token after the first is predicted exactly
/// once, by the first window that predicts it (the one with the longer context). Only when a
/// single timestep is longer than the window does a window start mid-timestep (L - 1 on).
/// Only the first maxTokens positions of a sequence are scored. Windows are batched; shorter ones are padded at the end, which a causal model never attends to.
/// </summary>
public static class SequenceScorer
{
    public static List<ScoredSequence> Score(
        GeneralistModel model,
        IReadOnlyList<TokenizedEpisode> sequences,
        Func<TokenKind, (int Start, int Count)?>? ranges = null,
        int batchSize = 16,
        Device? device = null,
        int maxTokens = int.MaxValue)
    {
        device ??= CPU;
        var length = model.Config.ContextLength;
        var results = sequences.Select(s => new ScoredSequence(s)).ToList();
        var windows = new List<(int Seq, int Start, int Length, int FirstScored)>();
        for (var i = 0; i < sequences.Count; i++)
            foreach (var (start, len, first) in Windows(sequences[i], length, maxTokens))
                windows.Add((i, start, len, first));
        model.eval();
        for (var b0 = 0; b0 < windows.Count; b0 += batchSize)
        {
            var batch = windows.Skip(b0).Take(batchSize).ToList();
            using var scope = NewDisposeScope();
            using var _ = no_grad();
            var t = batch.Max(w => w.Length);
            using var inputs = WindowInputs.Create(batch.Select(w => (sequences[w.Seq], w.Start, w.Length)).ToList(), t, model.Config, device);
            var logp = model.forward(inputs).to(ScalarType.Float32).log_softmax(-1);   // (B, T, V)
            var targets = new long[batch.Count * t];
            for (var r = 0; r < batch.Count; r++)
            {
                var (s, start, len, _) = batch[r];
                var tokens = sequences[s].Tokens;
                for (var k = 0; k + 1 < len; k++) targets[r * t + k] = tokens[start + k + 1];
            }
            using var targetTensor = tensor(targets, [batch.Count, t], ScalarType.Int64, device);
            var nats = logp.gather(2, targetTensor.unsqueeze(2)).squeeze(2).neg().cpu().data<float>().ToArray();  // (B, T)
            var argmax = logp.argmax(2).cpu().data<long>().ToArray();                                             // (B, T)
            for (var r = 0; r < batch.Count; r++)
            {
                var (s, start, len, firstScored) = batch[r];
                var result = results[s];
                var kinds = sequences[s].Kinds;
                for (var k = 0; k + 1 < len; k++)
                {
                    var j = start + k + 1;
                    if (j < firstScored) continue; // already predicted by the window before, with more context
                    result.Nats[j] = nats[r * t + k];
                    result.Argmax[j] = (int)argmax[r * t + k];
                    if (ranges?.Invoke(kinds[j]) is { } range)
                        result.RangeLogProbs[j] = logp[r, k].narrow(0, range.Start, range.Count).cpu().data<float>().ToArray();
                }
            }
        }
        return results;
    }

    /// <summary>
    /// The windows that score a sequence: (start, length, first position scored). Starts are timestep
    /// (unit) boundaries; each position in [1, min(Length, maxTokens)) is scored by exactly one window.
    /// </summary>
    public static List<(int Start, int Length, int FirstScored)> Windows(TokenizedEpisode sequence, int length, int maxTokens = int.MaxValue)
    {
        if (length < 2) throw new ArgumentOutOfRangeException(nameof(length), length, "a scoring window needs at least 2 positions");
        var end = Math.Min(sequence.Length, maxTokens);
        var windows = new List<(int, int, int)>();
        var start = 0;
        var scoredUpTo = 1; // position 0 starts the sequence and is never predicted
        while (scoredUpTo < end)
        {
            var len = Math.Min(length, end - start);
            windows.Add((start, len, scoredUpTo));
            scoredUpTo = start + len;
            if (scoredUpTo >= end) break;
            // The last unit boundary after this start from which the next window still predicts position scoredUpTo.
            var next = -1;
            for (var u = 0; u < sequence.UnitCount; u++)
            {
                var b = sequence.UnitStart(u);
                if (b > start && b < scoredUpTo) next = b;
                if (b >= scoredUpTo) break;
            }
            start = next >= 0 ? next : scoredUpTo - 1;
        }
        return windows;
    }
}

/// <summary>Model inputs for windows of tokenized sequences (patches gathered and re-indexed).</summary>
public static class WindowInputs
{
    public static ModelInputs Create(IReadOnlyList<(TokenizedEpisode Seq, int Start, int Length)> rows, int length, ModelConfig config, Device device, int pad = -1)
    {
        var padToken = pad >= 0 ? pad : VocabularyLayout.Default.Pad;
        var b = rows.Count;
        var tokens = new long[b * length];
        var positions = new long[b * length];
        var patchIndex = Enumerable.Repeat(-1L, b * length).ToArray();
        var patches = new List<float>();
        var patchRows = new List<long>();
        var patchCols = new List<long>();
        var patchDim = config.PatchDim;
        for (var r = 0; r < b; r++)
        {
            var (seq, start, len) = rows[r];
            var seqTokens = seq.Tokens;
            var seqPositions = seq.Positions;
            var refs = seq.PatchRefs;
            for (var k = 0; k < length; k++)
            {
                var at = r * length + k;
                if (k >= len) { tokens[at] = padToken; continue; }
                tokens[at] = seqTokens[start + k];
                positions[at] = seqPositions[start + k];
                var p = refs[start + k];
                if (p < 0) continue;
                if (seq.PatchLength != patchDim)
                    throw new ArgumentException($"patch vectors have {seq.PatchLength} values but the model expects {patchDim}: tokenize with the model's patch size {config.PatchSize}");
                patchIndex[at] = patchRows.Count;
                patches.AddRange(seq.Patches.Slice(p * patchDim, patchDim).ToArray());
                patchRows.Add(seq.PatchRows[p]);
                patchCols.Add(seq.PatchCols[p]);
            }
        }
        return ModelInputs.Create(b, length, tokens, positions, patchIndex, patches.ToArray(), patchRows.ToArray(), patchCols.ToArray(),
            patchRows.Count, patchDim, device);
    }
}
