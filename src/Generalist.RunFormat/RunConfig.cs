using System.Text.Json;
using System.Text.Json.Serialization;
using Generalist.Model;
using Generalist.Datasets;
using Generalist.Distributed;

namespace Generalist.RunFormat;

/// <summary>A task in the training mixture and its sampling weight (relative, &gt; 0).</summary>
public sealed record TaskWeight(
    [property: JsonPropertyName("name")] string Name,
    [property: JsonPropertyName("weight")] double Weight = 1.0);

/// <summary>Optimizer and schedule settings. Defaults follow Gato / nanoGPT practice.</summary>
public sealed record OptimizerConfig
{
    /// <summary>Peak learning rate after warmup.</summary>
    [JsonPropertyName("learning_rate")] public double LearningRate { get; init; } = 1e-3;
    /// <summary>Cosine decay ends at this fraction of the peak (Gato: 10%).</summary>
    [JsonPropertyName("min_lr_ratio")] public double MinLrRatio { get; init; } = 0.1;
    /// <summary>Linear warmup steps from 0 to the peak.</summary>
    [JsonPropertyName("warmup_steps")] public int WarmupSteps { get; init; } = 20;
    /// <summary>Decoupled weight decay, applied to 2-D weights only (not norms, biases, embeddings of positions).</summary>
    [JsonPropertyName("weight_decay")] public double WeightDecay { get; init; } = 0.1;
    /// <summary>
    /// Whether the token embedding (every text, bin and special row, and the tied head) decays too;
    /// false exempts it, so rows of rarely seen bins are not pulled to zero between their visits.
    /// </summary>
    [JsonPropertyName("decay_token_embedding")] public bool DecayTokenEmbedding { get; init; } = true;
    [JsonPropertyName("beta1")] public double Beta1 { get; init; } = 0.9;
    /// <summary>0.95 rather than 0.999: steadier for transformers with large batches.</summary>
    [JsonPropertyName("beta2")] public double Beta2 { get; init; } = 0.95;
    /// <summary>Global gradient-norm clip.</summary>
    [JsonPropertyName("grad_clip")] public double GradClip { get; init; } = 1.0;
    /// <summary>Use libtorch's fused AdamW kernel when it works; falls back to the per-parameter one.</summary>
    [JsonPropertyName("fused")] public bool Fused { get; init; } = true;
}

/// <summary>Checkpoint cadence and retention.</summary>
public sealed record CheckpointConfig
{
    /// <summary>Write a checkpoint every this many steps (and always at the end); 0 = only at the end.</summary>
    [JsonPropertyName("every")] public int Every { get; init; } = 100;
    /// <summary>Keep this many newest checkpoints; older ones are deleted after a new one is complete.</summary>
    [JsonPropertyName("keep_last")] public int KeepLast { get; init; } = 3;
}

/// <summary>Held-out loss evaluation during training.</summary>
public sealed record HeldOutConfig
{
    /// <summary>Compute held-out loss per task every this many steps; 0 = never.</summary>
    [JsonPropertyName("every")] public int Every { get; init; } = 50;
    /// <summary>Batches per task per held-out evaluation.</summary>
    [JsonPropertyName("batches")] public int Batches { get; init; } = 2;
}

/// <summary>What to do when the loss or gradient norm is not finite.</summary>
public sealed record NonFiniteConfig
{
    /// <summary>"skip" (drop the update and go on) or "halt" (fail the run at once).</summary>
    [JsonPropertyName("policy")] public string Policy { get; init; } = "skip";
    /// <summary>With "skip": fail the run after this many non-finite steps in a row.</summary>
    [JsonPropertyName("max_consecutive")] public int MaxConsecutive { get; init; } = 10;
}

/// <summary>
/// Loss-spike handling (PaLM, section 5.1): when a step's loss exceeds Factor x the mean of the
/// recent steps, the run rolls back to the newest checkpoint before the spike and skips the batches
/// from there through the spike plus SkipSteps more steps' worth, then continues.
/// </summary>
public sealed record SpikeConfig
{
    /// <summary>Turn the detector on or off.</summary>
    [JsonPropertyName("enabled")] public bool Enabled { get; init; } = true;
    /// <summary>A loss above this multiple of the recent mean is a spike (20: far above normal noise).</summary>
    [JsonPropertyName("factor")] public double Factor { get; init; } = 20.0;
    /// <summary>A spike must also be at least this many nats above the recent mean (1: near zero a
    /// loss moves by 20x on noise alone; PaLM's spikes rose by whole nats).</summary>
    [JsonPropertyName("min_rise")] public double MinRise { get; init; } = 1.0;
    /// <summary>Steps in the recent-mean window.</summary>
    [JsonPropertyName("window")] public int Window { get; init; } = 50;
    /// <summary>No detection until this many finite steps are in the window (the first losses fall fast).</summary>
    [JsonPropertyName("min_history")] public int MinHistory { get; init; } = 10;
    /// <summary>Steps' worth of batches skipped after the spike step, on top of the ones replayed.</summary>
    [JsonPropertyName("skip_steps")] public int SkipSteps { get; init; } = 20;
    /// <summary>Fail the run after this many rollbacks (a spike that keeps coming back is a real problem).</summary>
    [JsonPropertyName("max_rollbacks")] public int MaxRollbacks { get; init; } = 3;
}

/// <summary>
/// Architecture choices beyond the preset's shape, each measured against Gato's exact design
/// (the ablation in src/Generalist.Model/README.md). A checkpoint written before this section
/// existed was Gato exact, so its trainer state reads as <see cref="GatoExact"/>.
/// </summary>
public sealed record ModelOptions
{
    /// <summary>"fourier" (default): continuous-value tokens add a learned map of smooth features of
    /// their bin centre; "none": Gato exact, every bin its own independent embedding row.</summary>
    [JsonPropertyName("value_embedding")] public string ValueEmbedding { get; init; } = "fourier";
    /// <summary>"rope" (default): rotary relative positions in attention; "none": Gato exact.</summary>
    [JsonPropertyName("attention_positions")] public string AttentionPositions { get; init; } = "rope";
    /// <summary>true: the tied head scores bin tokens against their value-embedded rows (needs
    /// value_embedding "fourier"); false: against the independent rows only, as Gato.</summary>
    [JsonPropertyName("value_head")] public bool ValueHead { get; init; }
    /// <summary>Width in bins of the Gaussian label over neighbouring bins that a continuous-action
    /// target becomes (HL-Gauss); 0: one-hot targets, as Gato. Held-out losses stay one-hot.</summary>
    [JsonPropertyName("continuous_label_sigma")] public double ContinuousLabelSigma { get; init; }

    public static ModelOptions GatoExact { get; } = new() { ValueEmbedding = "none", AttentionPositions = "none" };

    public static readonly string[] ValueEmbeddings = ["fourier", "none"];
    public static readonly string[] AttentionPositionKinds = ["rope", "none"];

    /// <summary>The preset's shape with these choices (call after <see cref="RunConfig.Validate"/>).</summary>
    public Generalist.Model.ModelConfig ApplyTo(Generalist.Model.ModelConfig shape) => shape with
    {
        ValueEmbedding = ValueEmbedding == "none" ? Generalist.Model.ValueEmbeddingKind.None : Generalist.Model.ValueEmbeddingKind.Fourier,
        AttentionPositions = AttentionPositions == "none" ? Generalist.Model.AttentionPositionKind.None : Generalist.Model.AttentionPositionKind.Rope,
        ValueHead = ValueHead,
    };
}

/// <summary>
/// A training run, as a JSON file. Every field has a default; unknown fields are errors.
/// <see cref="Validate"/> names each bad field with its allowed range.
/// </summary>
public sealed record RunConfig
{
    /// <summary>Run name: letters, digits, '-', '_' and '.', 1-64 characters, not starting with '.'.</summary>
    [JsonPropertyName("name")] public string Name { get; init; } = "run";
    /// <summary>Model preset: tiny, small, base, large, or a ladder size (see the model's presets).</summary>
    [JsonPropertyName("preset")] public string Preset { get; init; } = "tiny";
    /// <summary>Tasks in the mixture with sampling weights.</summary>
    [JsonPropertyName("tasks")] public IReadOnlyList<TaskWeight> Tasks { get; init; } = [new("cartpole"), new("text")];
    /// <summary>Optimizer steps.</summary>
    [JsonPropertyName("steps")] public int Steps { get; init; } = 200;
    /// <summary>Sequences per micro-batch.</summary>
    [JsonPropertyName("batch_size")] public int BatchSize { get; init; } = 8;
    /// <summary>Micro-batches accumulated per optimizer step.</summary>
    [JsonPropertyName("grad_accum")] public int GradAccum { get; init; } = 1;
    /// <summary>Context length L in tokens; 0 = the preset's.</summary>
    [JsonPropertyName("context_length")] public int ContextLength { get; init; } = 0;
    /// <summary>"fp32" or "bf16" (autocast).</summary>
    [JsonPropertyName("precision")] public string Precision { get; init; } = "fp32";
    /// <summary><see cref="Precision"/> as the enum code compares (valid once the config is).</summary>
    [JsonIgnore] public Generalist.Torch.Precision PrecisionMode => Generalist.Torch.ComputeSettings.ParsePrecision(Precision);
    /// <summary>"cpu" or "cuda".</summary>
    [JsonPropertyName("device")] public string Device { get; init; } = "cpu";
    /// <summary><see cref="Device"/> as the enum code compares (valid once the config is).</summary>
    [JsonIgnore] public Generalist.Torch.ComputeDevice DeviceKind => Generalist.Torch.ComputeSettings.ParseDevice(Device);
    /// <summary>Seeds the model init, the data order and dropout.</summary>
    [JsonPropertyName("seed")] public long Seed { get; init; } = 1;
    /// <summary>Intra-op CPU threads; 0 = libtorch's default.</summary>
    [JsonPropertyName("threads")] public int Threads { get; init; } = 0;
    /// <summary>Episodes generated or read per control task for training data.</summary>
    [JsonPropertyName("episodes_per_task")] public int EpisodesPerTask { get; init; } = 64;
    /// <summary>
    /// A control task's training episodes hold at least this many timesteps: collection continues
    /// past <see cref="EpisodesPerTask"/> until they do (catch's 7-step and gridnav's ~5-step
    /// episodes otherwise give a few hundred states); 0 = exactly episodes_per_task episodes.
    /// </summary>
    [JsonPropertyName("min_timesteps_per_task")] public int MinTimestepsPerTask { get; init; } = Generalist.Datasets.DataOptions.DefaultMinTimestepsPerTask;
    /// <summary>Probability a control sequence is prefixed with a demonstration (Gato: 0.25).</summary>
    [JsonPropertyName("prompt_probability")] public double PromptProbability { get; init; } = 0.25;
    /// <summary>
    /// Probability in [0, 1) that a step of a control task's training episodes executes a perturbed
    /// action instead of the expert's (DART-style noise injection; the perturbed step's action is
    /// kept as history but carries no loss). null = each task's default (envs/DATA.md, "Action
    /// noise"); 0 = the plain expert episodes. Sokoban is never perturbed.
    /// </summary>
    [JsonPropertyName("action_noise"), JsonIgnore(Condition = JsonIgnoreCondition.WhenWritingNull)]
    public double? ActionNoise { get; init; }
    /// <summary>
    /// Probability in [0, 1) that a control timestep's action tokens are hidden (read as pad) from
    /// the positions after them in a training row, against copying action history; the targets stay
    /// the expert's actions. Held-out batches never hide. 0 = off.
    /// </summary>
    [JsonPropertyName("action_history_dropout")] public double ActionHistoryDropout { get; init; }
    /// <summary>
    /// The machine's dense matmul peak in FLOP/s for the run's precision, the MFU denominator.
    /// 0 = measure it once at the start of the run (about a second: median of large square matmuls);
    /// the environment variable GENERALIST_PEAK_FLOPS, when set, is used instead of measuring.
    /// </summary>
    [JsonPropertyName("peak_flops")] public double PeakFlops { get; init; } = 0;
    /// <summary>
    /// Start from another run's model weights instead of a random init (fine-tuning): a checkpoint
    /// directory (RUN/checkpoints/step-N) or a run directory (its newest valid checkpoint). Only the
    /// model weights are taken: the optimizer state is fresh, the step is 0, and the data stream
    /// and learning-rate schedule start as for a new run. Every tensor must match this config's
    /// model (preset, context length) in name and shape, or the run fails naming the first tensor
    /// that does not. null = random init. A resumed run continues from its own checkpoints and does
    /// not read this again. Through the service the path is relative to the data root.
    /// </summary>
    [JsonPropertyName("init_from"), JsonIgnore(Condition = JsonIgnoreCondition.WhenWritingNull)]
    public string? InitFrom { get; init; }
    /// <summary>Value embedding and attention positions (Gato exact: both "none").</summary>
    [JsonPropertyName("model")] public ModelOptions Model { get; init; } = new();
    /// <summary>The icl-regression task's shape and curriculum (read only when the mixture holds that task).</summary>
    [JsonPropertyName("icl_regression")] public IclRegressionConfig IclRegression { get; init; } = new();
    [JsonPropertyName("optimizer")] public OptimizerConfig Optimizer { get; init; } = new();
    [JsonPropertyName("checkpoint")] public CheckpointConfig Checkpoint { get; init; } = new();
    [JsonPropertyName("held_out")] public HeldOutConfig HeldOut { get; init; } = new();
    [JsonPropertyName("non_finite")] public NonFiniteConfig NonFinite { get; init; } = new();
    [JsonPropertyName("spike")] public SpikeConfig Spike { get; init; } = new();
    /// <summary>
    /// Data parallelism (docs/DISTRIBUTED.md). The world size comes from the launcher (mpirun/srun);
    /// with W ranks, batch_size is the GLOBAL micro-batch and each rank trains on batch_size / W rows.
    /// </summary>
    [JsonPropertyName("distributed")] public Generalist.Distributed.DistributedConfig Distributed { get; init; } = new();

    /// <summary>Longest accepted <see cref="InitFrom"/> path.</summary>
    public const int MaxPathLength = 4096;

    public static readonly JsonSerializerOptions JsonOptions = new()
    {
        UnmappedMemberHandling = JsonUnmappedMemberHandling.Disallow,
        WriteIndented = true,
        AllowTrailingCommas = false,
        ReadCommentHandling = JsonCommentHandling.Skip,
        // {"steps": 5, "steps": 6} is a mistake to report, not a choice to make silently.
        AllowDuplicateProperties = false,
    };

    /// <summary>Parses and validates; throws <see cref="ConfigException"/> naming the field.</summary>
    public static RunConfig Parse(string json, string source = "config")
    {
        var config = ParseUnvalidated(json, source);
        var errors = config.Validate();
        if (errors.Count > 0) throw new ConfigException(errors[0].Field, $"{source}: {errors[0].Field}: {errors[0].Message}");
        return config;
    }

    /// <summary>
    /// Parses only (the service lays a request's own fields over the JSON before validating);
    /// JSON errors become a <see cref="ConfigException"/> in the config's words (<see cref="ConfigJsonErrors"/>).
    /// </summary>
    public static RunConfig ParseUnvalidated(string json, string source = "config")
    {
        RunConfig? config;
        try
        {
            config = JsonSerializer.Deserialize<RunConfig>(json, JsonOptions);
        }
        catch (JsonException e)
        {
            throw ConfigJsonErrors.Describe(e, source, typeof(RunConfig), Requirement);
        }
        catch (ArgumentException)
        {
            // A string holding a lone UTF-16 surrogate cannot be transcoded to UTF-8 JSON text.
            throw new ConfigException("", $"{source}: invalid JSON: a string holds a lone UTF-16 surrogate (\\uD800-\\uDFFF without its pair)");
        }
        return config ?? throw new ConfigException("", $"{source}: empty config (null)");
    }

    private static string? Requirement(string field) => RunConfigFields.All.FirstOrDefault(f => f.Path == field)?.Rule.Requirement;

    public static RunConfig Load(string path)
    {
        if (!File.Exists(path)) throw new ConfigException("config", $"config file not found: {path}");
        var info = new FileInfo(path);
        if (info.Length > 1 << 20) throw new ConfigException("config", $"{path}: config files are at most 1 MiB (this one is {info.Length} bytes)");
        string text;
        try
        {
            // Strict: invalid UTF-8 is an error naming the byte, not text with U+FFFD in a task name.
            text = new System.Text.UTF8Encoding(encoderShouldEmitUTF8Identifier: false, throwOnInvalidBytes: true).GetString(File.ReadAllBytes(path));
        }
        catch (System.Text.DecoderFallbackException e)
        {
            throw new ConfigException("config", $"{path}: not valid UTF-8 (at byte {e.Index}); save the file as UTF-8");
        }
        return Parse(text.TrimStart('\uFEFF'), path);
    }

    public string ToJson() => JsonSerializer.Serialize(this, JsonOptions);

    /// <summary>All problems, each with the field path and the allowed range (the rules of <see cref="RunConfigFields"/>).</summary>
    public IReadOnlyList<ConfigError> Validate()
    {
        var e = new List<ConfigError>();
        if (Tasks is null || Tasks.Count == 0) e.Add(new("tasks", "must list at least one task"));
        else if (Tasks.Any(t => t is null)) e.Add(new($"tasks[{Tasks.ToList().FindIndex(t => t is null)}]", "must be an object {\"name\": ..., \"weight\": ...}, not null"));
        else
        {
            for (var i = 0; i < Tasks.Count; i++)
            {
                foreach (var m in RunConfigFields.TaskName.Problems(Tasks[i].Name)) e.Add(new($"tasks[{i}].name", m));
                foreach (var m in RunConfigFields.TaskWeight.Problems(Tasks[i].Weight)) e.Add(new($"tasks[{i}].weight", m));
            }
            foreach (var dup in Tasks.GroupBy(t => t.Name).Where(g => g.Count() > 1))
                e.Add(new("tasks", $"task '{dup.Key}' is listed twice"));
        }
        // A section written as null would reach the trainer as null: refuse it here (omit it for the defaults).
        foreach (var (field, section) in new (string, object?)[]
                 {
                     ("model", Model), ("optimizer", Optimizer), ("checkpoint", Checkpoint), ("held_out", HeldOut), ("non_finite", NonFinite),
                     ("spike", Spike), ("distributed", Distributed), ("icl_regression", IclRegression),
                     ("icl_regression.curriculum", IclRegression?.Curriculum),
                 })
            if (section is null) e.Add(new(field, "must be an object, not null (leave it out for the defaults)"));
        foreach (var field in RunConfigFields.All) e.AddRange(field.Check(this));
        // Rules across fields (sparse_nonzero <= dimension, the curriculum against the task): the data set's own checks, once each.
        if (IclRegression is { Curriculum: not null } icl)
            foreach (var (field, message) in icl.ToOptions().Problems())
                if (!e.Any(x => x.Field == $"icl_regression.{field}")) e.Add(new($"icl_regression.{field}", message));
        if ((Model ?? new()) is { ValueHead: true, ValueEmbedding: not "fourier" })
            e.Add(new("model.value_head", "needs model.value_embedding \"fourier\""));
        return e;
    }

    /// <summary>
    /// Everything a trainer would refuse, found before anything runs: <see cref="Validate"/>, then
    /// the preset and the model options, every task name against the catalog (skipped when the
    /// caller brings its own model shape and data, as tests do), and a lower bound of the memory a
    /// step needs against what the machine has (device "cpu"). `generalist train`, `config check`
    /// and the service's CreateRun and ResumeRun all call this one method, so they refuse alike.
    /// </summary>
    public IReadOnlyList<ConfigError> ValidateForTraining(bool catalogTasks = true, long? availableBytes = null)
    {
        var errors = Validate();
        if (errors.Count > 0) return errors;
        var found = new List<ConfigError>();
        Generalist.Model.ModelConfig model;
        try
        {
            model = ResolveModel();
        }
        catch (ConfigException e)
        {
            return [new(e.Field, e.Message[(e.Field.Length + 2)..])];
        }
        if (catalogTasks)
            for (var i = 0; i < Tasks.Count; i++)
                if (!Generalist.Datasets.TaskCatalog.Names.Contains(Tasks[i].Name))
                    found.Add(new($"tasks[{i}].name", $"unknown task '{Tasks[i].Name}'; valid tasks: {string.Join(", ", Generalist.Datasets.TaskCatalog.Names)}"));
        if (DeviceKind == Generalist.Torch.ComputeDevice.Cpu)
        {
            var need = TrainingMemory.Estimate(model, BatchSize, PrecisionMode);
            var have = availableBytes ?? TrainingMemory.AvailableCpuBytes();
            if (need.TotalBytes > have)
            {
                var field = ContextLength > 0 ? "context_length" : "batch_size";
                found.Add(new(field,
                    $"preset {Preset} with context_length {model.ContextLength}, batch_size {BatchSize} and precision {Precision} needs at least " +
                    $"{TrainingMemory.GiB(need.TotalBytes)} (parameters and optimizer {TrainingMemory.GiB(need.ParameterBytes)}, activations {TrainingMemory.GiB(need.ActivationBytes)}) " +
                    $"but this machine has {TrainingMemory.GiB(have)}; lower context_length or batch_size, or use a smaller preset"));
            }
        }
        return found;
    }

    /// <summary>How this run's task data are built from the cache at <paramref name="cacheDirectory"/>
    /// (the trainer and the evaluator both ask here, so they read the same shards).</summary>
    public Generalist.Datasets.DataOptions DataOptionsIn(string cacheDirectory) =>
        new(cacheDirectory, EpisodesPerTask, Seed, ActionNoise, MinTimestepsPerTask, (IclRegression ?? new()).ToOptions());

    /// <summary>
    /// The model this config trains: the preset's shape (or an explicit one), its context length
    /// and the model options. The trainer and the checkpoint loader both resolve it here, so a
    /// checkpoint always rebuilds the model it was trained with.
    /// </summary>
    public Generalist.Model.ModelConfig ResolveModel(Generalist.Model.ModelConfig? explicitShape = null)
    {
        Generalist.Model.ModelConfig shape;
        if (explicitShape is not null) shape = explicitShape;
        else
        {
            try
            {
                shape = Generalist.Model.ModelPresets.Get(Preset);
            }
            catch (ArgumentException e)
            {
                throw new ConfigException("preset", $"preset: {e.Message}");
            }
        }
        if (ContextLength > 0) shape = shape with { ContextLength = ContextLength };
        try
        {
            return (Model ?? new()).ApplyTo(shape).Validate();
        }
        catch (ArgumentException e)
        {
            throw new ConfigException("model", $"model: {e.Message}");
        }
    }
}

public sealed record ConfigError(string Field, string Message);

/// <summary>A config problem; <see cref="Field"/> names the offending field (for gRPC BadRequest details).</summary>
public sealed class ConfigException(string field, string message) : Exception(message)
{
    public string Field { get; } = field;
}

/// <summary>The safe character set for run names (they become directory names under the data root).</summary>
public static class RunNames
{
    public const string Rule = "must be 1-64 characters of letters, digits, '-', '_' or '.', not starting with '.'";

    public static bool IsValid(string? name) =>
        name is { Length: >= 1 and <= 64 } && name[0] != '.' &&
        name.All(c => c is (>= 'a' and <= 'z') or (>= 'A' and <= 'Z') or (>= '0' and <= '9') or '-' or '_' or '.');
}
