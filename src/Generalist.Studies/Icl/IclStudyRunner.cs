using Generalist.Evaluation.InContext;
using Generalist.Evaluation.Statistics;
using Generalist.RunFormat;

namespace Generalist.Studies;

public sealed partial class StudyRunner
{
    /// <summary>icl.checkpoint as a full path (relative ones from the study config's folder); null = train base. A missing directory is a config error.</summary>
    private static string? ResolveIclCheckpoint(StudyConfig config, string configPath)
    {
        if (config.Icl.Checkpoint is not { } given) return null;
        var full = Path.IsPathRooted(given) ? given : Path.GetFullPath(Path.Combine(Path.GetDirectoryName(Path.GetFullPath(configPath))!, given));
        if (!Directory.Exists(full)) throw new ConfigException("icl.checkpoint", $"{configPath}: icl.checkpoint: directory not found: {given}");
        return full;
    }

    /// <summary>
    /// The in-context learning study: base trained as one sub-run "icl" (evaluated on the icl suite),
    /// or icl.checkpoint taken as it is; then <see cref="IclCheckpointAnalysis"/> on that checkpoint and
    /// report.md with its plots, icl_study.json and the CSVs. Resumable like every study: a finished
    /// sub-run is not trained again.
    /// </summary>
    private async Task<StudyResult> RunIclAsync(StudyConfig config, StudyRequest request, IProgress<StudyProgress>? progress, CancellationToken ct)
    {
        var analyse = Backend.AnalyseIcl ?? throw new InvalidOperationException("this study backend has no in-context analysis (StudyBackend.AnalyseIcl)");
        string checkpoint;
        SubRunResult? run = null;
        if (ResolveIclCheckpoint(config, request.ConfigPath) is { } given) checkpoint = given;
        else
        {
            // Trained and evaluated as any sub-run; the evaluation is the icl suite, whatever evaluation.suite says.
            var executor = new SubRunExecutor(Backend, request.OutputDirectory, config with { Evaluation = config.Evaluation with { Suite = "icl" } }, progress);
            run = await executor.RunAsync("icl", StudyKinds.Icl, config.BaseRun, null, config.BaseRun.Tasks.Select(t => t.Name).ToList(), 0, 2, ct);
            checkpoint = run.Checkpoint;
        }
        progress?.Report(new StudyProgress("analyse", 1, 2, $"in-context analysis of {checkpoint}"));
        var bootstrap = new BootstrapOptions(config.Bootstrap.Samples, config.Bootstrap.Confidence, config.Bootstrap.Seed);
        var options = new IclAnalysisOptions(
            new IclEvaluationOptions(config.Icl.Prompts, config.Icl.TuningPrompts, config.Icl.OodNoise, config.Icl.OodInputScale) { Bootstrap = bootstrap },
            config.Icl.ProbePrompts,
            new ProbeOptions(config.Icl.ProbeTrainFraction, config.Icl.ProbeRidge),
            bootstrap);
        // Torch work is synchronous and long: its own thread, like training and evaluation.
        var result = await Task.Factory.StartNew(() => analyse(checkpoint, options, ct), ct, TaskCreationOptions.LongRunning, TaskScheduler.Default);
        var (report, artifacts) = IclStudyReport.Write(request.OutputDirectory, config, request.ConfigPath, result, run);
        progress?.Report(new StudyProgress("done", 2, 2, report));
        return new StudyResult(StudyKinds.Icl, request.OutputDirectory, report, artifacts);
    }
}
