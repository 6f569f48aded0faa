using System.Text.Json;
using System.Text.Json.Nodes;
using System.Text.Json.Serialization;
using Generalist.Studies.Ablation;
using Generalist.RunFormat;

namespace Generalist.Studies;

/// <summary>How each sub-run's final checkpoint is evaluated.</summary>
public sealed record StudyEvaluationConfig
{
    /// <summary>Evaluation suite (control, vision-language, language, icl, default, all).</summary>
    [JsonPropertyName("suite")] public string Suite { get; init; } = "default";
    /// <summary>Control episodes per task (on seeds disjoint from training).</summary>
    [JsonPropertyName("episodes")] public int Episodes { get; init; } = 10;
    [JsonPropertyName("seed")] public long Seed { get; init; } = 1_000_003;
    /// <summary>Transfer only: evaluate every sub-run on every task of the study (not only its own), to fill the heatmap.</summary>
    [JsonPropertyName("all_tasks")] public bool AllTasks { get; init; } = true;
}

public sealed record TransferConfig
{
    /// <summary>Task family name -> its tasks. Every base task must be in exactly one family.</summary>
    [JsonPropertyName("families")] public Dictionary<string, List<string>> Families { get; init; } = [];
    /// <summary>Train one specialist per task (same model and steps as the generalist).</summary>
    [JsonPropertyName("specialists")] public bool Specialists { get; init; } = true;
    /// <summary>Train leave-one-family-out generalists and fine-tune each on its left-out family.</summary>
    [JsonPropertyName("leave_one_family_out")] public bool LeaveOneFamilyOut { get; init; } = true;
    /// <summary>Fine-tuning steps on the left-out family (also the steps of the from-scratch comparison).</summary>
    [JsonPropertyName("finetune_steps")] public int FinetuneSteps { get; init; } = 50;
    /// <summary>Also train the left-out family from scratch for finetune_steps (the fine-tuning curves' reference).</summary>
    [JsonPropertyName("scratch_baseline")] public bool ScratchBaseline { get; init; } = true;
}

public sealed record ScalingConfig
{
    /// <summary>Model presets, e.g. the ladder rungs ladder-0..ladder-7; at least 4.</summary>
    [JsonPropertyName("presets")] public List<string> Presets { get; init; } = ["ladder-0", "ladder-1", "ladder-2", "ladder-3", "ladder-4"];
    /// <summary>Training steps per run; several values give several token budgets (and the L(N, D) fit). Empty = base.steps.</summary>
    [JsonPropertyName("steps")] public List<int> Steps { get; init; } = [];
    /// <summary>Seeds per (size, steps); more seeds give more points for the bootstrap.</summary>
    [JsonPropertyName("seeds")] public List<long> Seeds { get; init; } = [1];
    /// <summary>Minimum decades of non-embedding parameters the presets must span.</summary>
    [JsonPropertyName("min_decades")] public double MinDecades { get; init; } = 1.5;
}

/// <summary>One ablation variant: a name (a run-name) and a JSON object deep-merged onto the base run config.</summary>
public sealed record AblationVariantConfig
{
    [JsonPropertyName("name")] public string? Name { get; init; }
    /// <summary>Merged onto base: objects recursively, anything else (arrays included) replaced; null or absent = no change.</summary>
    [JsonPropertyName("overrides")] public JsonObject? Overrides { get; init; }
}

public sealed record AblationConfig
{
    /// <summary>The variants, each trained once per seed. Empty = the default ladder (<see cref="AblationPlan.DefaultLadder"/>).</summary>
    [JsonPropertyName("variants")] public List<AblationVariantConfig?> Variants { get; init; } = [];
    /// <summary>Training seeds; every variant is trained once per seed.</summary>
    [JsonPropertyName("seeds")] public List<long> Seeds { get; init; } = [1, 2];
}

/// <summary>
/// The in-context learning study (`generalist study icl`): train base (or take a checkpoint), then
/// the behaviour analysis (model vs algorithms per k, agreement, shifted prompts), probes of every
/// layer with a random-init control, and MovieLens RMSE against ratings in context.
/// </summary>
public sealed record IclStudyConfig
{
    /// <summary>Analyse this checkpoint (a step-N or run directory; relative paths from the study config's folder) instead of training base.</summary>
    [JsonPropertyName("checkpoint")] public string? Checkpoint { get; init; }
    /// <summary>Held-out prompts per condition of the behaviour analysis.</summary>
    [JsonPropertyName("prompts")] public int Prompts { get; init; } = 256;
    /// <summary>Other held-out prompts on which gradient descent's step size is tuned.</summary>
    [JsonPropertyName("tuning_prompts")] public int TuningPrompts { get; init; } = 64;
    /// <summary>Prompts whose residual streams are probed (the first of the evaluated ones).</summary>
    [JsonPropertyName("probe_prompts")] public int ProbePrompts { get; init; } = 256;
    /// <summary>Fraction of the probed prompts that fit the probes; the others score them.</summary>
    [JsonPropertyName("probe_train_fraction")] public double ProbeTrainFraction { get; init; } = 0.7;
    /// <summary>Probe ridge strength per training row (standardized features).</summary>
    [JsonPropertyName("probe_ridge")] public double ProbeRidge { get; init; } = 1e-3;
    /// <summary>Extra noise on y in the noisy-y condition, in units of f's standard deviation.</summary>
    [JsonPropertyName("ood_noise")] public double OodNoise { get; init; } = 0.5;
    /// <summary>Factor on x in the scaled-x condition.</summary>
    [JsonPropertyName("ood_input_scale")] public double OodInputScale { get; init; } = 2.0;
}

public sealed record StudyBootstrapConfig
{
    [JsonPropertyName("samples")] public int Samples { get; init; } = 1000;
    [JsonPropertyName("seed")] public long Seed { get; init; } = 17;
    [JsonPropertyName("confidence")] public double Confidence { get; init; } = 0.95;
}

/// <summary>
/// A study, as JSON (<see cref="StudyConfigFields"/> documents every field; `generalist config show --study` prints them). "base" is a full
/// run config (the trainer's own format and validation); transfer and scaling derive every sub-run
/// from it by changing only the tasks, the preset, the steps or the seed, an ablation by merging in
/// each variant's overrides (<see cref="AblationPlan"/>). Unknown fields are errors.
/// </summary>
public sealed record StudyConfig
{
    /// <summary>Study name (also the default output directory name).</summary>
    [JsonPropertyName("name")] public string Name { get; init; } = "study";
    [JsonPropertyName("base")] public JsonObject? Base { get; init; }
    [JsonPropertyName("evaluation")] public StudyEvaluationConfig Evaluation { get; init; } = new();
    [JsonPropertyName("transfer")] public TransferConfig Transfer { get; init; } = new();
    [JsonPropertyName("scaling")] public ScalingConfig Scaling { get; init; } = new();
    [JsonPropertyName("ablation")] public AblationConfig Ablation { get; init; } = new();
    [JsonPropertyName("icl")] public IclStudyConfig Icl { get; init; } = new();
    [JsonPropertyName("bootstrap")] public StudyBootstrapConfig Bootstrap { get; init; } = new();

    /// <summary>The parsed and validated base run config.</summary>
    [JsonIgnore] public RunConfig BaseRun { get; private set; } = new();

    /// <summary>The ablation's variants, merged onto base and validated (the default ladder when none are given).</summary>
    [JsonIgnore] public IReadOnlyList<AblationVariant> AblationVariants { get; private set; } = [];

    /// <summary>The evaluation suites a study may name (the evaluator's own list).</summary>
    public static readonly string[] Suites = [.. Generalist.Evaluation.Suites.Names];

    private static readonly JsonSerializerOptions JsonOptions = new()
    {
        UnmappedMemberHandling = JsonUnmappedMemberHandling.Disallow,
        ReadCommentHandling = JsonCommentHandling.Skip,
        WriteIndented = true,
    };

    public static StudyConfig Load(string path)
    {
        if (!File.Exists(path)) throw new ConfigException("config", $"study config not found: {path}");
        if (new FileInfo(path).Length > 1 << 20) throw new ConfigException("config", $"{path}: study configs are at most 1 MiB");
        return Parse(File.ReadAllText(path), path);
    }

    /// <summary>Parses and validates; throws <see cref="ConfigException"/> naming the field and its allowed range.</summary>
    public static StudyConfig Parse(string json, string source = "study config")
    {
        StudyConfig? config;
        try
        {
            config = JsonSerializer.Deserialize<StudyConfig>(json, JsonOptions);
        }
        catch (JsonException e)
        {
            // In the config's words, with the base run's ranges from the run config's own field table.
            throw ConfigJsonErrors.Describe(e, source, typeof(StudyConfig), field => field.StartsWith("base.", StringComparison.Ordinal)
                ? RunConfigFields.All.FirstOrDefault(f => f.Path == field["base.".Length..])?.Rule.Requirement
                : StudyConfigFields.All.FirstOrDefault(f => f.Path == field)?.Rule.Requirement);
        }
        if (config is null) throw new ConfigException("", $"{source}: empty config");
        if (config.Base is null) throw new ConfigException("base", $"{source}: base: required (a run config: preset, tasks, steps, ...)");
        // An explicit null section would otherwise reach the validation as a null reference.
        foreach (var (field, value) in new (string, object?)[]
                 { ("evaluation", config.Evaluation), ("transfer", config.Transfer), ("scaling", config.Scaling), ("ablation", config.Ablation), ("icl", config.Icl), ("bootstrap", config.Bootstrap),
                   ("transfer.families", config.Transfer?.Families), ("scaling.presets", config.Scaling?.Presets), ("scaling.steps", config.Scaling?.Steps),
                   ("scaling.seeds", config.Scaling?.Seeds), ("ablation.variants", config.Ablation?.Variants), ("ablation.seeds", config.Ablation?.Seeds) })
            if (value is null) throw new ConfigException(field, $"{source}: {field}: must be given as a value, not null (leave the field out for its default)");
        try
        {
            config.BaseRun = RunConfig.Parse(config.Base.ToJsonString(), source + " (base)");
        }
        catch (ConfigException e)
        {
            throw new ConfigException("base." + e.Field, e.Message.Replace($"{source} (base): {e.Field}", $"{source}: base.{e.Field}"));
        }
        var error = config.Validate().FirstOrDefault();
        if (error is not null) throw new ConfigException(error.Field, $"{source}: {error.Field}: {error.Message}");
        return config;
    }

    /// <summary>Every problem with its field; also resolves the ablation's variants (<see cref="AblationVariants"/>), which needs the same merge and parse.</summary>
    public IReadOnlyList<ConfigError> Validate()
    {
        // The single-field rules (with their ranges) are those `config show --study` prints; the evaluation
        // seed is checked here, not only by the evaluator, so a bad one fails before any sub-run trains.
        var e = StudyConfigFields.All.SelectMany(f => f.Check(this)).ToList();
        var tasks = BaseRun.Tasks.Select(t => t.Name).ToHashSet();
        var tr = Transfer ?? new();
        foreach (var (family, members) in tr.Families)
        {
            if (!RunNames.IsValid(family)) e.Add(new($"transfer.families.{family}", "family names " + RunNames.Rule));
            if (members is null || members.Count == 0) e.Add(new($"transfer.families.{family}", "must list at least one task"));
            else foreach (var m in members.Where(m => !tasks.Contains(m)))
                e.Add(new($"transfer.families.{family}", $"task '{m}' is not in base.tasks ({string.Join(", ", tasks)})"));
        }
        foreach (var dup in tr.Families.SelectMany(f => f.Value ?? []).GroupBy(t => t).Where(g => g.Count() > 1))
            e.Add(new("transfer.families", $"task '{dup.Key}' is in more than one family"));
        var icl = Icl ?? new();
        if (icl.ProbePrompts > icl.Prompts) e.Add(new("icl.probe_prompts", $"must be at most icl.prompts = {icl.Prompts} (got {icl.ProbePrompts})"));
        if (icl.Prompts + icl.TuningPrompts > Generalist.Datasets.Sets.IclRegressionSource.HeldOutCount)
            e.Add(new("icl.tuning_prompts", $"icl.prompts + icl.tuning_prompts must be at most the {Generalist.Datasets.Sets.IclRegressionSource.HeldOutCount} held-out functions (got {icl.Prompts + icl.TuningPrompts})"));
        var sc = Scaling ?? new();
        if (sc.Presets is null || sc.Presets.Count < 4) e.Add(new("scaling.presets", $"must list at least 4 model presets (got {sc.Presets?.Count ?? 0})"));
        else if (sc.Presets.Any(string.IsNullOrWhiteSpace)) e.Add(new("scaling.presets", "every entry must be a preset name (got null or empty)"));
        else foreach (var dup in sc.Presets.GroupBy(p => p).Where(g => g.Count() > 1)) e.Add(new("scaling.presets", $"preset '{dup.Key}' is listed twice"));
        foreach (var s in sc.Steps ?? []) if (s is < 1 or > 10_000_000) e.Add(new("scaling.steps", $"every value must be in [1, 10000000] (got {s})"));
        if (sc.Seeds is null || sc.Seeds.Count == 0) e.Add(new("scaling.seeds", "must list at least one seed"));
        if (Base is not null)
        {
            // Resolved once: the errors are reported here, the variants kept for the runner.
            var (variants, errors) = AblationPlan.Resolve(Base, Ablation ?? new());
            e.AddRange(errors);
            AblationVariants = variants;
        }
        return e;
    }

    /// <summary>Transfer needs families covering every base task; checked when a transfer study starts.</summary>
    public void ValidateForTransfer(string source)
    {
        var covered = Transfer.Families.SelectMany(f => f.Value).ToHashSet();
        var missing = BaseRun.Tasks.Select(t => t.Name).Where(t => !covered.Contains(t)).ToList();
        if (Transfer.Families.Count == 0)
            throw new ConfigException("transfer.families", $"{source}: transfer.families: required for a transfer study (family -> tasks)");
        if (missing.Count > 0)
            throw new ConfigException("transfer.families", $"{source}: transfer.families: tasks {string.Join(", ", missing)} are in no family");
        if (Transfer.LeaveOneFamilyOut && Transfer.Families.Count < 2)
            throw new ConfigException("transfer.families", $"{source}: transfer.families: leaving one family out needs at least 2 families");
    }
}
