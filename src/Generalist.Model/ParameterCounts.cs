using System.Globalization;
using System.Text;

namespace Generalist.Model;

/// <summary>
/// Parameters of a <see cref="ModelConfig"/> by group, computed from the shape (so that the
/// 364M `large` preset can be described without allocating it; a test checks these against a
/// built model). NonEmbedding is Kaplan et al.'s N: blocks + final norm.
/// </summary>
public sealed record ParameterCounts(
    long TokenEmbedding,
    long PositionEmbeddings,   // local observation positions + image row and column positions
    long PatchEmbedding,       // the ResNet-v2 patch block and its projection to ModelDim
    long Blocks,
    long FinalNorm,
    long SeparateHead,         // 0 when the head is tied to the token embedding
    long HeadMatmul,           // VocabSize x ModelDim: the head's weights, tied or not
    long ValueEmbedding = 0)   // the Fourier value features' projection (0 when Gato exact)
{
    public long NonEmbedding => Blocks + FinalNorm;
    public long Total => TokenEmbedding + ValueEmbedding + PositionEmbeddings + PatchEmbedding + Blocks + FinalNorm + SeparateHead;

    /// <summary>The N of 6N + 12*L*T*d: parameters every token multiplies through, i.e. the
    /// non-embedding parameters plus the output head (nanoGPT's convention: its tied head counts).
    /// Embedding lookups are not matmuls; the patch block runs only at patch positions (excluded,
    /// which makes MFU slightly conservative on image-heavy batches).</summary>
    public long FlopParameters => NonEmbedding + HeadMatmul;

    public static ParameterCounts For(ModelConfig config)
    {
        config.Validate();
        long d = config.ModelDim, v = config.VocabSize, c = config.PatchHiddenChannels;
        var layerNorm = 2 * d;
        var block = layerNorm + 3 * d * d + d * d          // attention: norm, fused qkv, output projection (no biases)
                  + layerNorm + 2L * config.MlpRatio * d * d; // MLP: norm, fc and projection (no biases)
        var groupNorm = 2 * c;
        var patch = config.PatchChannels * c * 9 + c        // 3x3 stem conv
                  + groupNorm + c * c * 9 + c               // norm1 + conv1
                  + groupNorm + c * c * 9 + c               // norm2 + conv2
                  + groupNorm                                // output norm
                  + c * config.PatchSize * config.PatchSize * d + d; // projection to ModelDim
        return new ParameterCounts(
            TokenEmbedding: v * d,
            PositionEmbeddings: (config.MaxLocalPositions + config.MaxImageRows + config.MaxImageCols) * d,
            PatchEmbedding: patch,
            Blocks: config.Layers * block,
            FinalNorm: layerNorm,
            SeparateHead: config.TieEmbeddings ? 0 : v * d,
            HeadMatmul: v * d,
            ValueEmbedding: config.ValueEmbedding == ValueEmbeddingKind.Fourier ? Generalist.Model.ValueEmbedding.FeatureCount(config) * d : 0);
    }

    /// <summary>FLOPs of one training token (forward + backward): 6N + 12*L*T*d (PaLM appendix B),
    /// with N = <see cref="FlopParameters"/> and T the attended context.</summary>
    public static double FlopsPerToken(ModelConfig config, int contextLength)
    {
        if (contextLength < 1) throw new ArgumentException($"contextLength ({contextLength}) must be at least 1.");
        return 6.0 * For(config).FlopParameters + 12.0 * config.Layers * contextLength * config.ModelDim;
    }

    /// <summary>A Markdown table of every preset: shape and parameter counts.</summary>
    public static string PresetTable()
    {
        var s = new StringBuilder();
        s.AppendLine("| preset | layers | d | heads | context | non-embedding | FLOP N (with head) | total | MFLOP/token |");
        s.AppendLine("|---|---|---|---|---|---|---|---|---|");
        foreach (var p in ModelPresets.Presets)
        {
            var n = For(p.Config);
            s.AppendLine(CultureInfo.InvariantCulture,
                $"| {p.Name} | {p.Config.Layers} | {p.Config.ModelDim} | {p.Config.Heads} | {p.Config.ContextLength} | {Millions(n.NonEmbedding)} | {Millions(n.FlopParameters)} | {Millions(n.Total)} | {FlopsPerToken(p.Config, p.Config.ContextLength) / 1e6:0.0} |");
        }
        return s.ToString();
    }

    public static string Millions(long count) => (count / 1e6).ToString(count < 1_000_000 ? "0.000M" : "0.00M", CultureInfo.InvariantCulture);

    public override string ToString() => string.Create(CultureInfo.InvariantCulture,
        $"total {Millions(Total)} = token embedding {Millions(TokenEmbedding)} + value embedding {ValueEmbedding} + positions {Millions(PositionEmbeddings)} + patch block {Millions(PatchEmbedding)} + blocks {Millions(Blocks)} + final norm {FinalNorm} + separate head {Millions(SeparateHead)}; non-embedding {Millions(NonEmbedding)}, FLOP N {Millions(FlopParameters)}");
}
