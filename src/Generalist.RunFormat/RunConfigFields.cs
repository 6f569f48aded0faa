using Generalist.Distributed;
using Generalist.Model;
using Generalist.Datasets;
using Generalist.Datasets.Sets;

namespace Generalist.RunFormat;

/// <summary>
/// Every field of a run config: path, description and rule. <see cref="RunConfig.Validate"/> checks
/// these rules and `generalist config show` prints them, so the two cannot disagree. A field added to
/// <see cref="RunConfig"/> must be listed here (a test compares this list with the serialized config).
/// </summary>
public static class RunConfigFields
{
    private static readonly DistributedConfig NoDistributed = new();

    public static FieldRule TaskName { get; } = FieldRule.Where("a task name (not empty)", v => v is string s && !string.IsNullOrWhiteSpace(s));
    public static FieldRule TaskWeight { get; } = FieldRule.Finite(0, strict: true);

    public static IReadOnlyList<ConfigField<RunConfig>> All { get; } =
    [
        new("name", "Run name; `generalist train` writes to checkpoints/<name> unless --out is given.",
            FieldRule.Where(RunNames.Rule["must be ".Length..], v => RunNames.IsValid(v as string)), c => c.Name),
        new("preset", "Model preset (shape and context length); `generalist models` lists them with sizes.",
            FieldRule.Where("a model preset name", v => v is string s && !string.IsNullOrWhiteSpace(s)), c => c.Preset),
        new("tasks", "The training mixture: {\"name\": TASK, \"weight\": W} objects, sampled in proportion to the weights. " +
                     "On the command line: --tasks cartpole:2,text.",
            FieldRule.Any("a list of at least one {name, weight}, each name once, each weight a finite number > 0")),
        new("tasks[].name", "A task name.", TaskName),
        new("tasks[].weight", "Relative sampling weight of the task (default 1).", TaskWeight),
        new("steps", "Optimizer steps.", FieldRule.Int(1, 10_000_000), c => c.Steps),
        new("batch_size", "Sequences per micro-batch (with N ranks: the global micro-batch, each rank takes batch_size / N).", FieldRule.Int(1, 4096), c => c.BatchSize),
        new("grad_accum", "Micro-batches accumulated per optimizer step.", FieldRule.Int(1, 1024), c => c.GradAccum),
        new("context_length", "Context length L in tokens; 0 = the preset's.", FieldRule.Int(0, 65536), c => c.ContextLength),
        new("precision", "Arithmetic: fp32, or bf16 autocast (faster on CPUs with AVX-512 BF16 and on GPUs).", FieldRule.OneOf(Generalist.Torch.ComputeSettings.PrecisionNames), c => c.Precision),
        new("device", "Where the model trains.", FieldRule.OneOf(Generalist.Torch.ComputeSettings.DeviceNames), c => c.Device),
        new("seed", "Seeds the model init, the data order and dropout.", FieldRule.Any("a whole number")),
        new("threads", "Intra-op CPU threads; 0 = libtorch's default.", FieldRule.Int(0, 1024), c => c.Threads),
        new("episodes_per_task", "Expert episodes generated or read per control task for training data.", FieldRule.Int(1, 1_000_000), c => c.EpisodesPerTask),
        new("min_timesteps_per_task", "Control tasks' training episodes hold at least this many timesteps (collection continues past " +
                                      "episodes_per_task; short-episode tasks such as catch and gridnav need it); 0 = exactly episodes_per_task.",
            FieldRule.Int(0, Generalist.Datasets.DataOptions.MaxMinTimestepsPerTask), c => c.MinTimestepsPerTask),
        new("prompt_probability", "Probability that a control sequence is prefixed with a demonstration (Gato: 0.25).", FieldRule.Number(0, 1), c => c.PromptProbability),
        new("action_noise", "Probability that a step of a control task's training episodes executes a perturbed action instead of the " +
                            "expert's (the perturbed action carries no loss); 0 = plain expert episodes. Sokoban is never perturbed.",
            FieldRule.Number(0, 1, maxOpen: true).OrNull("each task's default"), c => c.ActionNoise),
        new("action_history_dropout", "Probability that a control timestep's action tokens are hidden (read as pad) from the later positions of a " +
                                      "training row, against copying action history; targets stay the expert's. Held-out batches never hide. 0 = off.",
            FieldRule.Number(0, 1, maxOpen: true), c => c.ActionHistoryDropout),
        new("peak_flops", "The machine's dense matmul peak in FLOP/s, the MFU denominator; 0 = measure it at the start " +
                          "(GENERALIST_PEAK_FLOPS overrides).", FieldRule.Finite(0, strict: false, "0 = measure"), c => c.PeakFlops),
        new("init_from", "Start from this checkpoint's model weights (a step-N directory, or a run directory for its newest " +
                         "checkpoint): fresh optimizer, step 0. Through the service the path is relative to the data root.",
            FieldRule.Where($"a checkpoint or run directory path of 1-{RunConfig.MaxPathLength} characters without control characters",
                v => v is string s && !string.IsNullOrWhiteSpace(s) && s.Length <= RunConfig.MaxPathLength && !s.Any(char.IsControl)).OrNull("a random init"),
            c => c.InitFrom),

        new("model", "Architecture choices beyond the preset's shape (Gato exact: both \"none\").", FieldRule.Any("an object")),
        new("model.value_embedding", "fourier: continuous-value tokens add a learned map of smooth features of their bin centre; " +
                                     "none: Gato exact, every bin its own embedding row.",
            FieldRule.OneOf(ModelOptions.ValueEmbeddings), c => (c.Model ?? new()).ValueEmbedding),
        new("model.attention_positions", "rope: rotary relative positions in attention; none: Gato exact.",
            FieldRule.OneOf(ModelOptions.AttentionPositionKinds), c => (c.Model ?? new()).AttentionPositions),
        new("model.value_head", "true: the tied head scores bin tokens against their value-embedded rows (needs value_embedding " +
                                "fourier); false: against the independent rows only, as Gato.", FieldRule.Bool, c => (c.Model ?? new()).ValueHead),
        new("model.continuous_label_sigma", "Width in bins of the Gaussian label a continuous-action target becomes (HL-Gauss); " +
                                            "0 = one-hot targets, as Gato. Held-out losses stay one-hot.",
            FieldRule.Number(0, 256), c => (c.Model ?? new()).ContinuousLabelSigma),

        new("icl_regression", "The icl-regression task: y = f(x) / (3 sigma) in context, a fresh f per sequence (used only when tasks holds icl-regression).",
            FieldRule.Any("an object")),
        new("icl_regression.dimension", "d: length of x.", FieldRule.Int(1, Generalist.Datasets.Sets.IclRegressionOptions.MaxDimension), c => I(c).Dimension),
        new("icl_regression.pairs", "(x, y) pairs per sequence; each takes dimension + 2 tokens, so the prompt the model sees is at most " +
                                    "context_length tokens long.", FieldRule.Int(1, Generalist.Datasets.Sets.IclRegressionOptions.MaxPairs), c => I(c).Pairs),
        new("icl_regression.noise_std", "Gaussian noise on f(x), in units of f's standard deviation; 0 = noiseless.", FieldRule.Number(0, 10), c => I(c).NoiseStd),
        new("icl_regression.input_scale", "x ~ N(0, input_scale^2 I).", FieldRule.Number(0, 100, minOpen: true), c => I(c).InputScale),
        new("icl_regression.function", "gaussian: dense w ~ N(0, I); sparse: sparse_nonzero coordinates of w nonzero; relu2: a 2-layer ReLU " +
                                       "network with hidden_units units (Garg et al. 2022).",
            FieldRule.OneOf(Generalist.Datasets.Sets.IclFunctionKinds.All), c => I(c).Function),
        new("icl_regression.sparse_nonzero", "Nonzero coordinates of w for function sparse; at most dimension.",
            FieldRule.Int(1, Generalist.Datasets.Sets.IclRegressionOptions.MaxDimension), c => I(c).SparseNonZero),
        new("icl_regression.hidden_units", "Hidden units of the relu2 target network.", FieldRule.Int(1, Generalist.Datasets.Sets.IclRegressionOptions.MaxHiddenUnits), c => I(c).HiddenUnits),
        new("icl_regression.curriculum", "Dimension and pairs growing over training (Garg et al.): stage s = step / every_steps uses " +
                                         "min(dimension, start_dimension + s * dimension_increment) coordinates of x (the rest 0) and " +
                                         "min(pairs, start_pairs + s * pairs_increment) pairs. Held-out sequences are the full task.", FieldRule.Any("an object")),
        new("icl_regression.curriculum.every_steps", "Optimizer steps per curriculum stage; 0 = no curriculum.", FieldRule.Int(0, 10_000_000), c => I(c).Curriculum?.EverySteps),
        new("icl_regression.curriculum.start_dimension", "Active dimensions in stage 0; at most dimension.", FieldRule.Int(1, Generalist.Datasets.Sets.IclRegressionOptions.MaxDimension), c => I(c).Curriculum?.StartDimension),
        new("icl_regression.curriculum.start_pairs", "Pairs in stage 0; at most pairs.", FieldRule.Int(1, Generalist.Datasets.Sets.IclRegressionOptions.MaxPairs), c => I(c).Curriculum?.StartPairs),
        new("icl_regression.curriculum.dimension_increment", "Dimensions added per stage.", FieldRule.Int(0, Generalist.Datasets.Sets.IclRegressionOptions.MaxDimension), c => I(c).Curriculum?.DimensionIncrement),
        new("icl_regression.curriculum.pairs_increment", "Pairs added per stage.", FieldRule.Int(0, Generalist.Datasets.Sets.IclRegressionOptions.MaxPairs), c => I(c).Curriculum?.PairsIncrement),

        new("optimizer", "AdamW with linear warmup and cosine decay.", FieldRule.Any("an object")),
        new("optimizer.learning_rate", "Peak learning rate after warmup.", FieldRule.Number(0, 1, minOpen: true), c => (c.Optimizer ?? new()).LearningRate),
        new("optimizer.min_lr_ratio", "Cosine decay ends at this fraction of the peak (Gato: 0.1).", FieldRule.Number(0, 1), c => (c.Optimizer ?? new()).MinLrRatio),
        new("optimizer.warmup_steps", "Linear warmup steps from 0 to the peak.", FieldRule.Int(0, 10_000_000), c => (c.Optimizer ?? new()).WarmupSteps),
        new("optimizer.weight_decay", "Decoupled weight decay on 2-D weights (not norms, biases or position embeddings).", FieldRule.Number(0, 10), c => (c.Optimizer ?? new()).WeightDecay),
        new("optimizer.decay_token_embedding", "Whether the token embedding (text, bin and special rows; the tied head) decays too; false exempts it.",
            FieldRule.Bool, c => (c.Optimizer ?? new()).DecayTokenEmbedding),
        new("optimizer.beta1", "AdamW's first-moment decay.", FieldRule.Number(0, 1, maxOpen: true), c => (c.Optimizer ?? new()).Beta1),
        new("optimizer.beta2", "AdamW's second-moment decay (0.95: steadier for transformers than 0.999).", FieldRule.Number(0, 1, maxOpen: true), c => (c.Optimizer ?? new()).Beta2),
        new("optimizer.grad_clip", "Global gradient-norm clip.", FieldRule.Finite(0, strict: true), c => (c.Optimizer ?? new()).GradClip),
        new("optimizer.fused", "Use libtorch's fused AdamW kernel when it works (falls back to the per-parameter one).", FieldRule.Bool),

        new("checkpoint", "Checkpoint cadence and retention.", FieldRule.Any("an object")),
        new("checkpoint.every", "Write a checkpoint every this many steps (and always at the end); 0 = only at the end.", FieldRule.Int(0, 10_000_000), c => (c.Checkpoint ?? new()).Every),
        new("checkpoint.keep_last", "Keep this many newest checkpoints.", FieldRule.Int(1, 1000), c => (c.Checkpoint ?? new()).KeepLast),

        new("held_out", "Held-out loss per task during training.", FieldRule.Any("an object")),
        new("held_out.every", "Compute held-out loss every this many steps; 0 = never.", FieldRule.Int(0, 10_000_000), c => (c.HeldOut ?? new()).Every),
        new("held_out.batches", "Batches per task per held-out evaluation.", FieldRule.Int(1, 1000), c => (c.HeldOut ?? new()).Batches),

        new("non_finite", "What to do when the loss or gradient norm is not finite.", FieldRule.Any("an object")),
        new("non_finite.policy", "skip: drop the update and go on; halt: fail the run at once.", FieldRule.OneOf(["skip", "halt"]), c => (c.NonFinite ?? new()).Policy),
        new("non_finite.max_consecutive", "With skip: fail the run after this many non-finite steps in a row.", FieldRule.Int(1, 1_000_000), c => (c.NonFinite ?? new()).MaxConsecutive),

        new("spike", "Loss-spike rollback (PaLM): on a spike, return to the checkpoint before it and skip the batches through it.", FieldRule.Any("an object")),
        new("spike.enabled", "Turn the detector on or off.", FieldRule.Bool),
        new("spike.factor", "A loss above this multiple of the recent mean is a spike.", FieldRule.Finite(1, strict: true), c => (c.Spike ?? new()).Factor),
        new("spike.min_rise", "A spike must also be at least this many nats above the recent mean.", FieldRule.Finite(0, strict: false), c => (c.Spike ?? new()).MinRise),
        new("spike.window", "Steps in the recent-mean window.", FieldRule.Int(1, 100_000), c => (c.Spike ?? new()).Window),
        new("spike.min_history", "No detection until this many finite steps are in the window.", FieldRule.Int(1, 100_000), c => (c.Spike ?? new()).MinHistory),
        new("spike.skip_steps", "Steps' worth of batches skipped after the spike step, on top of the ones replayed.", FieldRule.Int(0, 10_000_000), c => (c.Spike ?? new()).SkipSteps),
        new("spike.max_rollbacks", "Fail the run after this many rollbacks.", FieldRule.Int(0, 1000), c => (c.Spike ?? new()).MaxRollbacks),

        new("distributed", "Data parallelism; the world size comes from the launcher (mpirun, srun), not from here.", FieldRule.Any("an object")),
        new("distributed.backend", "auto: one process runs without MPI, CPU runs use Open MPI, CUDA runs NCCL; or force one.",
            FieldRule.OneOf([.. DistributedConfig.Backends]), c => D(c).Backend),
        new("distributed.aggregation", "How the ranks' gradients are combined (mean = plain data parallel; the others resist bad ranks).",
            FieldRule.OneOf([.. DistributedConfig.AggregationRules]), c => D(c).Aggregation),
        new("distributed.trim_fraction", "trimmed_mean: drop this fraction of the highest and lowest values per coordinate.",
            FieldRule.Number(0, 0.5, maxOpen: true), c => D(c).TrimFraction),
        new("distributed.clip_radius", "centered_clip: clipping radius in gradient-norm units.", FieldRule.Finite(0, strict: false, "0 = adaptive"), c => D(c).ClipRadius),
        new("distributed.clip_iterations", "centered_clip: clipping iterations per step.", FieldRule.Int(1, 100), c => D(c).ClipIterations),
        new("distributed.timeout_seconds", "Every collective must finish within this many seconds, or the job stops naming the late rank.",
            FieldRule.Number(1, 86400), c => D(c).TimeoutSeconds),
        new("distributed.bucket_mb", "Gradient bucket size of the all-reduce in MiB.", FieldRule.Number(0.001, 4096), c => D(c).BucketMb),
        new("distributed.launcher", "How the service starts a run with ranks > 1: a template with {ranks} and {command}, e.g. " +
                                    "\"mpirun -np {ranks} --hostfile hosts {command}\"; null = the service's own launcher.",
            FieldRule.Custom("a command template with {ranks} and {command}, or null for the service's launcher",
                v => v is string s ? MpiLauncher.Problems(s) : []), c => D(c).Launcher),
        new("distributed.ranks", "Ranks the service launches this run with (1 = one plain process).", FieldRule.Int(1, 65536), c => D(c).Ranks),
    ];

    /// <summary>The documentation of every field.</summary>
    public static IReadOnlyList<FieldDoc> Docs { get; } = All.Select(f => f.Doc).ToList();

    private static DistributedConfig D(RunConfig c) => c.Distributed ?? NoDistributed;

    private static IclRegressionConfig I(RunConfig c) => c.IclRegression ?? NoIcl;
    private static readonly IclRegressionConfig NoIcl = new();
}
