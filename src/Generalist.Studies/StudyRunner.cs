using Generalist.Evaluation.Reporting;
using Generalist.Evaluation.Statistics;
using Generalist.Studies.Ablation;
using Generalist.Studies.Scaling;
using Generalist.Studies.Transfer;
using Generalist.RunFormat;

namespace Generalist.Studies;

/// <summary>
/// Runs transfer, scaling and ablation studies through the trainer (the same code path as `generalist
/// train`) and the evaluator. Every sub-run lives in OUT/runs/NAME; a sub-run whose result file
/// and final checkpoint exist is not redone, and an interrupted one resumes from its newest
/// checkpoint, so a study can be stopped and started again at any point.
/// </summary>
public sealed partial class StudyRunner(StudyBackend backend) : IStudyRunner
{
    public async Task<StudyResult> RunAsync(StudyRequest request, IProgress<StudyProgress>? progress, CancellationToken cancellationToken)
    {
        var config = StudyConfig.Load(request.ConfigPath);
        // A missing checkpoint is refused before anything is written.
        if (request.Kind == StudyKinds.Icl) ResolveIclCheckpoint(config, request.ConfigPath);
        Directory.CreateDirectory(request.OutputDirectory);
        // The resolved config is kept beside the results so the report says exactly what ran.
        AtomicFiles.WriteText(Path.Combine(request.OutputDirectory, "study_config.json"), File.ReadAllText(request.ConfigPath));
        var executor = new SubRunExecutor(backend, request.OutputDirectory, config, progress);
        return request.Kind switch
        {
            StudyKinds.Transfer => await RunTransferAsync(config, request, executor, cancellationToken),
            StudyKinds.Scaling => await RunScalingAsync(config, request, executor, cancellationToken),
            StudyKinds.Ablation => await RunAblationAsync(config, request, executor, cancellationToken),
            StudyKinds.Icl => await RunIclAsync(config, request, progress, cancellationToken),
            _ => throw new ArgumentException($"study kind must be one of {string.Join(", ", StudyKinds.All)} (got '{request.Kind}')"),
        };
    }

    private async Task<StudyResult> RunTransferAsync(StudyConfig config, StudyRequest request, SubRunExecutor executor, CancellationToken ct)
    {
        config.ValidateForTransfer(request.ConfigPath);
        var plan = TransferPlan.Build(config);
        var allTasks = config.BaseRun.Tasks.Select(t => t.Name).ToList();
        var results = new Dictionary<string, SubRunResult>();
        var notes = new List<string>();
        if (backend.StartFromCheckpoint is null && plan.Any(p => p.InitFromRun is not null))
        {
            notes.Add("Fine-tuning runs were skipped: this study's backend cannot start a run from another run's weights, " +
                      "so only the leave-one-family-out and from-scratch runs exist.");
            plan = plan.Where(p => p.InitFromRun is null).ToList();
        }
        for (var i = 0; i < plan.Count; i++)
        {
            var step = plan[i];
            var initFrom = step.InitFromRun is null ? null : results[step.InitFromRun].Checkpoint;
            var evaluate = config.Evaluation.AllTasks ? allTasks : step.Config.Tasks.Select(t => t.Name).ToList();
            results[step.Name] = await executor.RunAsync(step.Name, step.Role, step.Config, initFrom, evaluate, i, plan.Count, ct);
        }
        var (report, artifacts) = TransferReport.Write(request.OutputDirectory, config, plan.Select(p => results[p.Name]).ToList(), notes);
        return new StudyResult("transfer", request.OutputDirectory, report, artifacts);
    }

    private async Task<StudyResult> RunScalingAsync(StudyConfig config, StudyRequest request, SubRunExecutor executor, CancellationToken ct)
    {
        var sizes = config.Scaling.Presets.Select(p => (Preset: p, Params: ParametersOf(p))).ToList();
        var decades = Math.Log10(sizes.Max(s => s.Params) / (double)sizes.Min(s => s.Params));
        if (decades + 1e-9 < config.Scaling.MinDecades)
            throw new ConfigException("scaling.presets", $"{request.ConfigPath}: scaling.presets: span {decades:0.##} decades of non-embedding parameters " +
                $"({string.Join(", ", sizes.Select(s => $"{s.Preset}={s.Params}"))}); at least {config.Scaling.MinDecades} required");
        var steps = config.Scaling.Steps.Count > 0 ? config.Scaling.Steps : [config.BaseRun.Steps];
        var plan = (from s in sizes from st in steps from seed in config.Scaling.Seeds select (s.Preset, Steps: st, Seed: seed)).ToList();
        var results = new List<SubRunResult>();
        for (var i = 0; i < plan.Count; i++)
        {
            var (preset, st, seed) = plan[i];
            var name = $"size-{preset}" + (steps.Count > 1 ? $"-steps{st}" : "") + (config.Scaling.Seeds.Count > 1 ? $"-seed{seed}" : "");
            var run = new RunConfigOverrides { Preset = preset, Steps = st, Seed = seed }.ApplyTo(config.BaseRun);
            results.Add(await executor.RunAsync(name, "scaling", run, null, run.Tasks.Select(t => t.Name).ToList(), i, plan.Count, ct));
        }
        var rows = results.SelectMany(r => r.Evaluation.Tasks
                .Where(t => t.Metrics.ContainsKey("loss"))
                .Select(t => new ScalingRow(t.Task, r.NonEmbeddingParameters, r.TokensSeen, t.Metrics["loss"], t.NormalizedScore)))
            .ToList();
        var bootstrap = new BootstrapOptions(config.Bootstrap.Samples, config.Bootstrap.Confidence, config.Bootstrap.Seed);
        var analysis = ScalingAnalysis.Analyze(rows, bootstrap);
        var preface = new MarkdownDocument()
            .Paragraph($"Study `{config.Name}`: {sizes.Count} model sizes spanning {decades:0.##} decades of non-embedding parameters, " +
                       $"trained on the same tasks ({string.Join(", ", config.BaseRun.Tasks.Select(t => t.Name))}) with the same data and optimizer settings; " +
                       $"loss is the held-out loss of the final checkpoint, score the expert-normalized score of online rollouts.")
            .Table(["run", "preset", "non-embedding params", "steps", "seed", "tokens seen", "checkpoint"],
                results.Select(r => (IReadOnlyList<string>)[r.Name, r.Preset, r.NonEmbeddingParameters.ToString(), r.Steps.ToString(), r.Seed.ToString(), r.TokensSeen.ToString(),
                    Path.GetRelativePath(request.OutputDirectory, r.Checkpoint)]));
        var (report, artifacts) = ScalingReport.Write(request.OutputDirectory, $"Scaling study: {config.Name}", rows, analysis, preface);
        return new StudyResult("scaling", request.OutputDirectory, report, artifacts);
    }

    /// <summary>
    /// Every (variant, seed) of <c>ablation</c> as one sub-run VARIANT-seedN: the variant's merged run
    /// config with that seed, evaluated on its own tasks. Seeds are the outer loop, so an interrupted
    /// study already has every variant on the first seed.
    /// </summary>
    private async Task<StudyResult> RunAblationAsync(StudyConfig config, StudyRequest request, SubRunExecutor executor, CancellationToken ct)
    {
        var variants = config.AblationVariants;
        var plan = (from seed in config.Ablation.Seeds from v in variants select (Variant: v, Seed: seed)).ToList();
        // Every earlier sub-run is checked against its variant before anything trains.
        foreach (var (variant, seed) in plan) CheckRecordedVariant(executor.RunDirectory(variant.RunName(seed)), variant, seed, request.ConfigPath);
        var runs = new List<(string Variant, long Seed, SubRunResult Run)>();
        for (var i = 0; i < plan.Count; i++)
        {
            var (variant, seed) = plan[i];
            var run = new RunConfigOverrides { Seed = seed }.ApplyTo(variant.Config);
            var dir = executor.RunDirectory(variant.RunName(seed));
            Directory.CreateDirectory(dir);
            AtomicFiles.WriteText(Path.Combine(dir, VariantFile), variant.SubRunJson(seed).ToJsonString(new System.Text.Json.JsonSerializerOptions { WriteIndented = true }) + "\n");
            var result = await executor.RunAsync(variant.RunName(seed), AblationPlan.Role, run, null, run.Tasks.Select(t => t.Name).ToList(), i, plan.Count, ct);
            runs.Add((variant.Name, seed, result));
        }
        // Reported by variant, then seed (the order of the config).
        var order = variants.Select((v, i) => (v.Name, i)).ToDictionary(x => x.Name, x => x.i);
        runs = [.. runs.OrderBy(r => order[r.Variant]).ThenBy(r => config.Ablation.Seeds.IndexOf(r.Seed))];
        var notes = new List<string>();
        if (config.Ablation.Variants.Count == 0)
            notes.Add("No variants were given, so the study ran the default ladder (gato-exact, then each departure from Gato on its own, then the base config).");
        var bootstrap = new BootstrapOptions(config.Bootstrap.Samples, config.Bootstrap.Confidence, config.Bootstrap.Seed);
        var analysis = AblationAnalysis.Analyze(variants, runs, config.BaseRun.Tasks.Select(t => t.Name).ToList(), bootstrap);
        var (report, artifacts) = AblationReport.Write(request.OutputDirectory, config, variants, runs, analysis, notes);
        return new StudyResult(StudyKinds.Ablation, request.OutputDirectory, report, artifacts);
    }

    public const string VariantFile = "ablation_variant.json";

    /// <summary>The backend, for the study kinds in the other files of this class.</summary>
    private StudyBackend Backend => backend;

    /// <summary>
    /// Each ablation sub-run records the config it was asked for (merged JSON, name, seed) in
    /// <see cref="VariantFile"/> before it trains. A sub-run recorded with a different one is refused:
    /// a variant (or base) changed under the same name would otherwise be reported with the old results.
    /// </summary>
    private static void CheckRecordedVariant(string runDirectory, AblationVariant variant, long seed, string source)
    {
        var path = Path.Combine(runDirectory, VariantFile);
        if (!File.Exists(path)) return;
        System.Text.Json.Nodes.JsonNode? recorded;
        try
        {
            recorded = System.Text.Json.Nodes.JsonNode.Parse(File.ReadAllText(path));
        }
        catch (System.Text.Json.JsonException)
        {
            return; // unreadable (never written whole: it is written atomically); rewritten before the sub-run continues
        }
        if (!System.Text.Json.Nodes.JsonNode.DeepEquals(recorded, variant.SubRunJson(seed)))
            throw new ConfigException("ablation.variants", $"{source}: ablation.variants: variant '{variant.Name}' differs from the one sub-run {variant.RunName(seed)} was trained with " +
                $"({path}); rename the variant or remove {runDirectory} to train it again");
    }

    /// <summary>The real trainer (the same one `generalist train` runs), evaluator and model presets.</summary>
    public static StudyRunner CreateDefault() => new(new StudyBackend(
        new Generalist.Training.Loop.Trainer(),
        new Evaluation.Evaluator(),
        preset => Generalist.Model.ParameterCounts.For(Generalist.Model.ModelPresets.Get(preset)).NonEmbedding,
        // Fine-tuning: the trainer's init_from (model weights only; fresh optimizer, step 0).
        StartFromCheckpoint: (config, checkpoint) => new RunConfigOverrides { InitFrom = checkpoint }.ApplyTo(config),
        AnalyseIcl: Evaluation.InContext.IclCheckpointAnalysis.Run));

    private long ParametersOf(string preset)
    {
        try
        {
            return backend.NonEmbeddingParameters(preset);
        }
        catch (ArgumentException e)
        {
            throw new ConfigException("scaling.presets", $"scaling.presets: {e.Message}");
        }
    }
}
