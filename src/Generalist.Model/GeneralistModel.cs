using Generalist.Torch;
using TorchSharp;
using TorchSharp.Modules;
using static TorchSharp.torch;
using F = TorchSharp.torch.nn.functional;

namespace Generalist.Model;

/// <summary>The loss of a batch; every value is a device tensor (reading one is the caller's sync).</summary>
public sealed record LossOutput(
    Tensor Loss,        // () mean cross-entropy over loss tokens, with a graph for backward
    Tensor Sum,         // () summed cross-entropy over loss tokens (detached), for accumulation
    Tensor Count,       // () number of loss tokens
    Tensor TaskSums,    // (TaskCount) summed cross-entropy per task (detached)
    Tensor TaskCounts); // (TaskCount) loss tokens per task

/// <summary>
/// The Gato-style decoder: one transformer over text tokens, discretized values and image patches.
///   x = token_embedding(tokens)                        // (B, T, C); patch positions overwritten:
///   x[patch] = patch_embedding(pixels) + row + col     // ResNet-v2 block + image row/column positions
///   x = x + value_embedding(tokens)                    // W·φ(bin centre) on continuous values (optional)
///   x = x + local_position_embedding(local positions)  // no absolute positions
///   x = blocks(x)                                      // pre-norm causal blocks, rotary positions (optional)
///   logits = head(final_norm(x))                       // (B, T, V); head tied to token_embedding by default
/// Field names are checkpoint keys (`token_embedding.weight`, `blocks.3.mlp.fc.weight`, ...).
/// </summary>
public sealed class GeneralistModel : nn.Module<ModelInputs, Tensor>
{
    private readonly Embedding token_embedding;          // (V, C)
    private readonly PatchEmbedding patch_embedding;     // (K, 3*P*P) -> (K, C)
    private readonly Embedding patch_row_embedding;      // (MaxImageRows, C)
    private readonly Embedding patch_col_embedding;      // (MaxImageCols, C)
    private readonly Embedding local_position_embedding; // (MaxLocalPositions, C)
    private readonly ValueEmbedding? value_embedding;    // φ(bin centre) -> (C); null when Gato exact
    private readonly ModuleList<Block> blocks;
    private readonly LayerNorm final_norm;
    private readonly Linear? head;                       // null when tied to token_embedding

    /// <summary>The seed used when none is given, so that two builds of a config start equal.</summary>
    public const long DefaultSeed = 1337;

    public ModelConfig Config { get; }

    /// <summary>Builds the model on the CPU with GPT-2 initialisation drawn from a generator seeded
    /// with `seed` (the global torch generator is left as it was); move it with `.to(device)`.</summary>
    public GeneralistModel(ModelConfig config, long seed = DefaultSeed) : base(nameof(GeneralistModel))
    {
        Config = config.Validate();
        // TorchSharp's layer constructors draw their default init from the global generator;
        // restoring it afterwards keeps a trainer's RNG stream independent of the model shape.
        using var globalRng = get_rng_state();
        token_embedding = nn.Embedding(config.VocabSize, config.ModelDim);
        patch_embedding = new PatchEmbedding(config);
        patch_row_embedding = nn.Embedding(config.MaxImageRows, config.ModelDim);
        patch_col_embedding = nn.Embedding(config.MaxImageCols, config.ModelDim);
        local_position_embedding = nn.Embedding(config.MaxLocalPositions, config.ModelDim);
        value_embedding = config.ValueEmbedding == ValueEmbeddingKind.Fourier ? new ValueEmbedding(config) : null;
        blocks = nn.ModuleList(Enumerable.Range(0, config.Layers).Select(_ => new Block(config)).ToArray());
        final_norm = nn.LayerNorm(config.ModelDim);
        head = config.TieEmbeddings ? null : nn.Linear(config.ModelDim, config.VocabSize, hasBias: false);
        RegisterComponents();
        set_rng_state(globalRng);
        Initialize(seed);
    }

    /// <summary>Logits of every position: (B, T, V).</summary>
    public override Tensor forward(ModelInputs inputs)
    {
        CheckLength(inputs.Length, Config.ContextLength, "inputs length");
        var x = Embed(inputs);                                   // (B, T, C)
        var rope = RotaryPositions.For(Config, 0, inputs.Length, x.device); // positions 0..T-1 of each row
        foreach (var block in blocks) x = block.Forward(x, rope); // (B, T, C)
        return Logits(final_norm.forward(x));                     // (B, T, V)
    }

    /// <summary>
    /// Mean cross-entropy over the tokens whose loss mask is 1 (text and action targets; image
    /// patches and observation values have mask 0, so their targets never matter), plus per-task
    /// sums and counts built with index_add on the device: nothing here waits for the device.
    /// With continuousLabelSigma > 0, a continuous-action target is not one bin but a Gaussian over
    /// the bins (HL-Gauss, Farebrother et al. 2024) of that width in bins, centred on the target:
    /// the loss says that a neighbouring bin is nearly right, which one-hot targets cannot.
    /// </summary>
    public LossOutput Loss(ModelInputs inputs, Tensor targets, Tensor lossMask, Tensor taskIds, int taskCount, double continuousLabelSigma = 0)
    {
        if (taskCount < 1) throw new ArgumentException($"taskCount ({taskCount}) must be at least 1.");
        if (!(continuousLabelSigma >= 0 && double.IsFinite(continuousLabelSigma)))
            throw new ArgumentException($"continuousLabelSigma ({continuousLabelSigma}) must be a finite number >= 0.");
        var logits = forward(inputs);                                                 // (B, T, V)
        // Cross-entropy in fp32 even under bf16 autocast: log-softmax over 10k classes in bf16
        // loses the small probabilities that the loss is made of.
        var flatLogits = logits.view(-1, logits.shape[2]).to(ScalarType.Float32);    // (B*T, V)
        var flatTargets = targets.reshape(-1);                                        // (B*T)
        var perToken = continuousLabelSigma > 0
            ? SoftContinuousCrossEntropy(flatLogits, flatTargets, continuousLabelSigma)
            : F.cross_entropy(flatLogits, flatTargets, reduction: nn.Reduction.None); // (B*T)
        var mask = lossMask.reshape(-1).to(ScalarType.Float32);                       // (B*T)
        var masked = perToken * mask;
        var sum = masked.sum();
        var count = mask.sum();
        var loss = sum / count.clamp_min(Scalars.Of(1.0));
        var ids = taskIds.reshape(-1);
        var detached = masked.detach();
        var taskSums = zeros(taskCount, ScalarType.Float32, logits.device).index_add(0, ids, detached, Scalars.Of(1.0));
        var taskCounts = zeros(taskCount, ScalarType.Float32, logits.device).index_add(0, ids, mask, Scalars.Of(1.0));
        return new LossOutput(loss, sum.detach(), count, taskSums, taskCounts);
    }

    /// <summary>
    /// Per-position cross-entropy where continuous-bin targets become Gaussian label distributions
    /// over the bins (truncated to the bin range and renormalised, so edge bins, where saturating
    /// experts act, keep all their mass inside the range) and every other target stays one-hot.
    /// Built for every position and selected with where, so it needs no host sync.
    /// </summary>
    private Tensor SoftContinuousCrossEntropy(Tensor logits, Tensor targets, double sigma)
    {
        long offset = Config.ContinuousOffset, bins = Config.ContinuousBins;
        if (offset + bins > logits.shape[1]) return F.cross_entropy(logits, targets, reduction: nn.Reduction.None); // no bins in this vocabulary
        var logProbs = F.log_softmax(logits, 1);                                      // (N, V)
        var hard = -logProbs.gather(1, targets.unsqueeze(1)).squeeze(1);              // (N)
        var bin = targets - Scalars.Of(offset);                                       // (N)
        var isBin = bin.ge(Scalars.Of(0)).logical_and(bin.lt(Scalars.Of(bins)));
        var centre = bin.clamp(Scalars.Of(0), Scalars.Of(bins - 1)).to(ScalarType.Float32).unsqueeze(1);      // (N, 1)
        var distance = arange(Scalars.Of(bins), ScalarType.Float32, logits.device).unsqueeze(0) - centre; // (N, bins)
        var labels = (distance.square() * Scalars.Of(-0.5 / (sigma * sigma))).exp();
        labels = labels / labels.sum(1, keepdim: true);
        var soft = -(labels * logProbs.narrow(1, offset, bins)).sum(1);               // (N)
        return where(isBin, soft, hard);
    }

    public LossOutput Loss(ModelInputs inputs, LossTargets targets) =>
        Loss(inputs, targets.Targets, targets.LossMask, targets.TaskIds, targets.TaskCount);

    /// <summary>Training FLOPs per token, 6N + 12*L*T*d (see <see cref="ParameterCounts.FlopParameters"/> for N).</summary>
    public double EstimateFlopsPerToken(int contextLength) => ParameterCounts.FlopsPerToken(Config, contextLength);

    public double EstimateFlopsPerToken() => EstimateFlopsPerToken(Config.ContextLength);

    /// <summary>Parameter counts by group (from the config; equal to the built module's, tested).</summary>
    public ParameterCounts DescribeParameters() => ParameterCounts.For(Config);

    /// <summary>Counts the registered parameters of this instance.</summary>
    public long CountParameters() => parameters().Sum(p => p.numel());

    /// <summary>
    /// The block-0 input of every position: token or patch embedding plus local position. Patch
    /// embeddings are written into the (B*T, C) token embeddings with index_copy at positions the
    /// host computed, so this needs no device-to-host copy.
    /// </summary>
    internal Tensor Embed(ModelInputs inputs)
    {
        long b = inputs.BatchSize, t = inputs.Length, c = Config.ModelDim;
        var x = token_embedding.forward(inputs.Tokens);                                // (B, T, C)
        if (value_embedding is not null) x = x + value_embedding.forward(inputs.Tokens);
        if (inputs.PatchCount > 0)
        {
            if (inputs.Patches.shape[1] != Config.PatchDim)
                throw new ArgumentException($"patch vectors have {inputs.Patches.shape[1]} values; the model expects {Config.PatchDim} (PatchChannels x PatchSize^2).");
            var patches = patch_embedding.forward(inputs.Patches)                      // (K, C)
                        + patch_row_embedding.forward(inputs.PatchRows)
                        + patch_col_embedding.forward(inputs.PatchCols);
            x = x.view(b * t, c).index_copy(0, inputs.PatchPositions, patches.to(x.dtype)).view(b, t, c);
        }
        x = x + local_position_embedding.forward(inputs.LocalPositions);               // (B, T, C)
        return F.dropout(x, Config.Dropout, training);
    }

    /// <summary>The head: (…, C) -> (…, V), through the token embedding's weight when tied; with
    /// ValueHead the bin rows also hold their value embedding, so the head scores each bin by the same
    /// vector that embeds it and a bin's logit is a smooth function of its value plus its own row.</summary>
    internal Tensor Logits(Tensor h)
    {
        if (head is not null) return head.forward(h);
        Tensor table = token_embedding.weight!;
        if (Config.ValueHead && value_embedding is not null) table = value_embedding.AddToRows(table);
        return F.linear(h, table);
    }

    internal IList<Block> Blocks => blocks;
    internal LayerNorm FinalNorm => final_norm;

    internal static void CheckLength(long length, int limit, string what)
    {
        if (length < 1 || length > limit)
            throw new ArgumentException($"{what} ({length}) must be in [1, {limit}] (ContextLength).");
    }

    /// <summary>
    /// GPT-2 initialisation: linear and embedding weights N(0, 0.02), biases 0, and the residual
    /// projections (attention and MLP outputs) N(0, 0.02/sqrt(2 * layers)) so the residual
    /// stream's variance does not grow with depth. Convolutions of the patch block use He
    /// initialisation (they feed GELUs); norms start as the identity.
    /// </summary>
    private void Initialize(long seed)
    {
        using var generator = new Generator(unchecked((ulong)seed), CPU);
        using var _ = no_grad();
        const double std = 0.02;
        var residualStd = std / Math.Sqrt(2.0 * Config.Layers);
        var residual = blocks.SelectMany(b => b.ResidualProjections).ToHashSet();
        foreach (var (_, module) in named_modules())
        {
            switch (module)
            {
                case Linear linear:
                    linear.weight!.normal_(0, residual.Contains(linear) ? residualStd : std, generator);
                    linear.bias?.zero_();
                    break;
                case Embedding embedding:
                    embedding.weight!.normal_(0, std, generator);
                    break;
                // TorchSharp 0.107's GroupNorm leaves its affine parameters uninitialised (found
                // here as NaN), so every norm is set to the identity explicitly.
                case GroupNorm groupNorm:
                    groupNorm.weight?.fill_(Scalars.Of(1.0));
                    groupNorm.bias?.zero_();
                    break;
                case LayerNorm layerNorm:
                    layerNorm.weight?.fill_(Scalars.Of(1.0));
                    layerNorm.bias?.zero_();
                    break;
                case Conv2d conv:
                    var fanIn = conv.weight!.shape[1] * conv.weight.shape[2] * conv.weight.shape[3];
                    conv.weight.normal_(0, Math.Sqrt(2.0 / fanIn), generator);
                    conv.bias?.zero_();
                    break;
            }
        }
    }
}
