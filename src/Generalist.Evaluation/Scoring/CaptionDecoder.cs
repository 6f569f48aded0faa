using Generalist.Torch;
using Generalist.Model;
using Generalist.Tokenizers;
using static TorchSharp.torch;
using Generalist.Episodes;

namespace Generalist.Evaluation.Scoring;

public sealed record CaptionResult(string Reference, string Decoded, bool ExactMatch);

/// <summary>
/// Greedy captioning with the KV cache: the image timestep is prefilled, then text tokens are
/// decoded one at a time (argmax over text pieces and the end-of-episode token) until the end of
/// episode or a length limit. Images of one task share a size, so their prompts are batched.
/// </summary>
public static class CaptionDecoder
{
    public static List<CaptionResult> Decode(GeneralistModel model, SequenceBuilder builder, IReadOnlyList<Episode> episodes, int batchSize = 32, Device? device = null)
    {
        device ??= CPU;
        model.eval();
        var vocab = builder.Vocab;
        var prepared = episodes.Select(e =>
        {
            var reference = e.Timesteps.LastOrDefault(t => !string.IsNullOrEmpty(t.Observation.Text))?.Observation.Text
                ?? throw new ArgumentException($"episode of task '{e.Task}' has no caption text");
            var seq = builder.Build(e);
            var kinds = seq.Kinds;
            var firstText = -1;
            for (var j = 0; j < seq.Length; j++) if (kinds[j] == TokenKind.Text) { firstText = j; break; }
            if (firstText <= 0) throw new ArgumentException($"episode of task '{e.Task}' must start with an image timestep before its caption");
            var referenceTokens = builder.Text.Encode(reference).Length;
            return (Seq: seq, Prefix: firstText, Reference: reference, Limit: referenceTokens + 4);
        }).ToList();
        var results = new CaptionResult[prepared.Count];
        // Allowed outputs: text pieces and the end of episode; everything else is masked out.
        using var allowed = full([(long)model.Config.VocabSize], Scalars.Of(double.NegativeInfinity), ScalarType.Float32, device);
        allowed.narrow(0, 0, vocab.TextVocabSize).fill_(Scalars.Of(0.0));
        allowed[vocab.EndOfEpisode] = tensor(0f);
        foreach (var group in prepared.Select((p, i) => (p, i)).GroupBy(x => x.p.Prefix))
        {
            foreach (var chunk in group.Chunk(batchSize))
            {
                using var scope = NewDisposeScope();
                using var _ = no_grad();
                var b = chunk.Length;
                var prefix = group.Key;
                using var inputs = WindowInputs.Create(chunk.Select(c => (c.p.Seq, 0, prefix)).ToList(), prefix, model.Config, device);
                var (logits, cache) = model.Prefill(inputs);
                using (cache)
                {
                    var generated = Enumerable.Range(0, b).Select(_ => new List<int>()).ToArray();
                    var finished = new bool[b];
                    var limit = chunk.Max(c => c.p.Limit);
                    for (var step = 0; step < limit && !finished.All(f => f); step++)
                    {
                        var next = (logits.to(ScalarType.Float32) + allowed).argmax(1).cpu().data<long>().ToArray();
                        for (var r = 0; r < b; r++)
                        {
                            if (finished[r]) continue;
                            if (next[r] == vocab.EndOfEpisode || generated[r].Count >= chunk[r].p.Limit) finished[r] = true;
                            else generated[r].Add((int)next[r]);
                        }
                        if (finished.All(f => f)) break;
                        // Text tokens of the caption timestep take local positions 0, 1, 2, ...
                        using var tokens = tensor(next, [b], ScalarType.Int64, device);
                        using var positions = full([(long)b], Scalars.Of(step), ScalarType.Int64, device);
                        logits = model.DecodeStep(tokens, positions, cache);
                    }
                    for (var r = 0; r < b; r++)
                    {
                        var decoded = builder.Text.Decode(generated[r].ToArray());
                        var reference = chunk[r].p.Reference;
                        results[chunk[r].i] = new CaptionResult(reference, decoded, string.Equals(decoded.Trim(), reference.Trim(), StringComparison.Ordinal));
                    }
                }
            }
        }
        return results.ToList();
    }
}
