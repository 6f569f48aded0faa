using Generalist.Tokenizers;

namespace Generalist.Model;

/// <summary>
/// The shape of a <see cref="GeneralistModel"/>. Every default is explained where it is declared.
/// Field values are part of a checkpoint: a model can only load weights saved from the same config.
/// </summary>
public sealed record ModelConfig
{
    /// <summary>Rows of the token embedding and the output head: the whole vocabulary padded to a
    /// multiple of 64 (<see cref="VocabularyLayout.PaddedSize"/>, 10,304 for the default layout),
    /// so every text piece, bin, discrete value and special token has its own row.</summary>
    public int VocabSize { get; init; } = VocabularyLayout.Default.PaddedSize;

    /// <summary>Transformer blocks. 5 gives the ~1M non-embedding parameters of `tiny`.</summary>
    public int Layers { get; init; } = 5;

    /// <summary>Attention heads; ModelDim must divide by it. 4 heads of 32 keep the head size a
    /// multiple of 8, which the fused attention kernels on CUDA need.</summary>
    public int Heads { get; init; } = 4;

    /// <summary>Width of the residual stream (embedding size).</summary>
    public int ModelDim { get; init; } = 128;

    /// <summary>MLP hidden width as a multiple of ModelDim; 4 as in GPT-2 and Gato (768 -> 3072).</summary>
    public int MlpRatio { get; init; } = 4;

    /// <summary>Tokens per training sequence and the KV-cache window. Gato used 1024; 256 keeps
    /// the CPU presets fast.</summary>
    public int ContextLength { get; init; } = 256;

    /// <summary>Side of a square image patch in pixels. 16 is Gato's and the tokenizer's default;
    /// must equal the PatchSize of the batches fed in.</summary>
    public int PatchSize { get; init; } = 16;

    /// <summary>Channels of a patch. Always 3: the tokenizer replicates grayscale to RGB.</summary>
    public int PatchChannels { get; init; } = 3;

    /// <summary>Feature maps of the ResNet-v2 patch block. 16 keeps the block cheap next to a
    /// transformer layer; must divide by <see cref="PatchNormGroups"/>.</summary>
    public int PatchHiddenChannels { get; init; } = 16;

    /// <summary>Rows of the learned local observation position table. An observation (one
    /// timestep) longer than this cannot be embedded; 512 covers a 1024-token context of
    /// observations with actions and more than any task's observation.</summary>
    public int MaxLocalPositions { get; init; } = 512;

    /// <summary>Learned patch-row positions within an image: 16 rows of 16-pixel patches is a
    /// 256-pixel-high image, larger than any image the data sets hold.</summary>
    public int MaxImageRows { get; init; } = 16;

    /// <summary>Learned patch-column positions within an image (see MaxImageRows).</summary>
    public int MaxImageCols { get; init; } = 16;

    /// <summary>Dropout on embeddings, attention and residual branches while training. 0: the
    /// multi-task data is large compared with the CPU models, and Gato's small models used none.</summary>
    public double Dropout { get; init; }

    /// <summary>Share the output head's weight with the token embedding (GPT-2 and nanoGPT do).
    /// On: saves VocabSize x ModelDim parameters (7.9M at base size) and the head still gets its
    /// own matmul in the FLOP count. Off: a separate `head.weight` checkpoint key.</summary>
    public bool TieEmbeddings { get; init; } = true;

    /// <summary>What continuous-value tokens add to their embedding row. Fourier (default): a learned
    /// linear map of smooth features of the bin centre, so that neighbouring bins start out close and
    /// a bin never seen in training still embeds near its neighbours (measured: cartpole specialist
    /// 6 -> 44 normalized at 300 steps; src/Generalist.Model/README.md). None: Gato exact (each bin is
    /// only its own independent row).</summary>
    public ValueEmbeddingKind ValueEmbedding { get; init; } = ValueEmbeddingKind.Fourier;

    /// <summary>With the Fourier value embedding and a tied head: the head scores bin tokens against
    /// their full embedding (row + W·φ), so the predicted distribution over bins inherits the
    /// value features' smoothness. Off: the head sees only the independent rows (Gato's targets).</summary>
    public bool ValueHead { get; init; }

    /// <summary>Frequencies K of the Fourier value features [y, sin(k pi y), cos(k pi y)], k = 1..K, where
    /// y in [-1, 1] is the bin centre in companded space. 8: the finest wave spans 1/8 of the range
    /// (~128 bins), so features separate nearby states without making every bin independent again.</summary>
    public int ValueFrequencies { get; init; } = 8;

    /// <summary>Positions inside attention. Rope (default): rotary relative positions on queries and
    /// keys (Su et al. 2021), so the model can find the current timestep's tokens among earlier ones;
    /// exact under the KV cache's sliding window because only differences of positions matter.
    /// None: Gato exact (attention sees only the local observation positions added to embeddings).</summary>
    public AttentionPositionKind AttentionPositions { get; init; } = AttentionPositionKind.Rope;

    /// <summary>Base of the rotary frequencies (10,000 as in RoFormer and LLaMA).</summary>
    public double RopeBase { get; init; } = 10_000;

    /// <summary>The first continuous-bin token id and the number of bins (the vocabulary layout's),
    /// so the value embedding knows which tokens are values.</summary>
    public int ContinuousOffset { get; init; } = VocabularyLayout.Default.ContinuousOffset;
    public int ContinuousBins { get; init; } = VocabularyLayout.Default.ContinuousBins;

    /// <summary>The groups of every GroupNorm in the patch block (a fixed architecture constant).</summary>
    public const int PatchNormGroups = 4;

    public int HeadDim => ModelDim / Heads;
    public int MlpDim => ModelDim * MlpRatio;
    /// <summary>Length of one flattened patch vector: channels * P * P.</summary>
    public int PatchDim => PatchChannels * PatchSize * PatchSize;

    /// <summary>Throws an <see cref="ArgumentException"/> naming the first field out of range.</summary>
    public ModelConfig Validate()
    {
        Require(VocabSize, nameof(VocabSize), 1, 1 << 24);
        Require(Layers, nameof(Layers), 1, 256);
        Require(Heads, nameof(Heads), 1, 256);
        Require(ModelDim, nameof(ModelDim), 1, 65536);
        if (ModelDim % Heads != 0)
            throw new ArgumentException($"ModelDim ({ModelDim}) must be a multiple of Heads ({Heads}).");
        Require(MlpRatio, nameof(MlpRatio), 1, 64);
        Require(ContextLength, nameof(ContextLength), 2, 1 << 20);
        Require(PatchSize, nameof(PatchSize), 1, 256);
        Require(PatchChannels, nameof(PatchChannels), 1, 16);
        Require(PatchHiddenChannels, nameof(PatchHiddenChannels), PatchNormGroups, 4096);
        if (PatchHiddenChannels % PatchNormGroups != 0)
            throw new ArgumentException($"PatchHiddenChannels ({PatchHiddenChannels}) must be a multiple of {PatchNormGroups}.");
        Require(MaxLocalPositions, nameof(MaxLocalPositions), 1, 1 << 20);
        Require(MaxImageRows, nameof(MaxImageRows), 1, 4096);
        Require(MaxImageCols, nameof(MaxImageCols), 1, 4096);
        Require(ValueFrequencies, nameof(ValueFrequencies), 1, 64);
        if (!Enum.IsDefined(ValueEmbedding)) throw new ArgumentException($"ValueEmbedding ({ValueEmbedding}) must be None or Fourier.");
        if (!Enum.IsDefined(AttentionPositions)) throw new ArgumentException($"AttentionPositions ({AttentionPositions}) must be None or Rope.");
        if (AttentionPositions == AttentionPositionKind.Rope && HeadDim % 2 != 0)
            throw new ArgumentException($"rotary positions need an even head size; ModelDim / Heads = {HeadDim}.");
        if (ValueHead && (ValueEmbedding != ValueEmbeddingKind.Fourier || !TieEmbeddings))
            throw new ArgumentException("ValueHead needs the Fourier value embedding and a tied head (TieEmbeddings).");
        if (!(RopeBase > 1 && double.IsFinite(RopeBase))) throw new ArgumentException($"RopeBase ({RopeBase}) must be a finite number > 1.");
        // A small test vocabulary may hold no value tokens at all: then the value features are zero.
        Require(ContinuousOffset, nameof(ContinuousOffset), 0, 1 << 24);
        Require(ContinuousBins, nameof(ContinuousBins), 2, 1 << 20);
        if (!(Dropout >= 0 && Dropout < 1))
            throw new ArgumentException($"Dropout ({Dropout}) must be in [0, 1).");
        return this;
    }

    private static void Require(int value, string name, int min, int max)
    {
        if (value < min || value > max)
            throw new ArgumentException($"{name} ({value}) must be in [{min}, {max}].");
    }
}

/// <summary>How continuous-value tokens are embedded (see <see cref="ModelConfig.ValueEmbedding"/>).</summary>
public enum ValueEmbeddingKind { None, Fourier }

/// <summary>Positions inside attention (see <see cref="ModelConfig.AttentionPositions"/>).</summary>
public enum AttentionPositionKind { None, Rope }
