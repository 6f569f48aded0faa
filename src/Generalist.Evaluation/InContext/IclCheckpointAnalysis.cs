using Generalist.Datasets;
using Generalist.Datasets.Cache;
using Generalist.Datasets.Sets;
using Generalist.Evaluation.Statistics;
using Generalist.Tokenizers;
using static TorchSharp.torch;

namespace Generalist.Evaluation.InContext;

/// <summary>What <see cref="IclCheckpointAnalysis"/> runs.</summary>
/// <param name="ProbePrompts">The first this many evaluated prompts are probed.</param>
public sealed record IclAnalysisOptions(IclEvaluationOptions Behaviour, int ProbePrompts, ProbeOptions Probes, BootstrapOptions Bootstrap);

/// <summary>The in-context analysis of one checkpoint; parts are null when the checkpoint did not train that task.</summary>
public sealed record IclCheckpointResult(
    string Checkpoint,
    string Run,
    string Preset,
    int Steps,
    IReadOnlyList<string> Tasks,
    IclRegressionOptions? Regression,
    IclReport? Behaviour,
    ProbeReport? Probes,
    RatingCurveReport? MovieLensCurve,
    IReadOnlyList<BaselineRmse>? MovieLensLastRating,
    IReadOnlyDictionary<string, double>? MovieLensMetrics);

/// <summary>
/// Loads a checkpoint on the CPU and runs, on the task it trained (its own icl_regression options
/// and seed): the behaviour analysis (<see cref="IclRegressionEvaluation"/>), the probes of every
/// layer with the random-init control (<see cref="IclProbes"/>), and for a run that trained
/// MovieLens the RMSE-vs-ratings-in-context curve. `generalist study icl` calls this; so can any tool.
/// </summary>
public static class IclCheckpointAnalysis
{
    public static IclCheckpointResult Run(string checkpointPath, IclAnalysisOptions options, CancellationToken ct)
    {
        using var checkpoint = CheckpointLoading.Load(checkpointPath, CPU);
        var config = checkpoint.Config;
        var model = checkpoint.Model;
        var builder = new SequenceBuilder(VocabularyLayout.Default, model.Config.ContextLength, model.Config.PatchSize);
        var evaluations = new TaskEvaluations(model, builder, new EvaluatorOptions { Bootstrap = options.Bootstrap }, CPU);
        var dataOptions = config.DataOptionsIn(PackageCache.DefaultRoot());
        var tasks = config.Tasks.Select(t => t.Name).ToList();
        IclRegressionOptions? trained = null;
        IclReport? behaviour = null;
        ProbeReport? probes = null;
        if (tasks.Contains(IclRegressionSource.TaskName))
        {
            trained = dataOptions.IclRegression ?? new IclRegressionOptions();
            behaviour = IclRegressionEvaluation.Run(config.Seed, trained, model.Config.ContextLength, e => builder.Build(e).Length,
                evaluations.RegressionPredictions, options.Behaviour);
            ct.ThrowIfCancellationRequested();
            // The probed prompts are the first of the evaluated ones: the same functions, the same seeds.
            var source = IclRegressionSource.HeldOutShifted(config.Seed, trained, trained);
            var (indices, _) = IclRegressionEvaluation.Indices(options.Behaviour.Prompts, options.Behaviour.TuningPrompts, source.Count);
            var prompts = indices.Take(options.ProbePrompts).Select(i => source.Get(i)).ToList();
            probes = IclProbes.Run(model, builder, prompts, behaviour.GdStepSizes, options.Probes, batchSize: 16, CPU);
        }
        ct.ThrowIfCancellationRequested();
        RatingCurveReport? curve = null;
        IReadOnlyList<BaselineRmse>? lastRating = null;
        Dictionary<string, double>? movieLensMetrics = null;
        if (tasks.Contains(MovieLensSet.TaskName))
        {
            var data = TaskCatalog.Load(MovieLensSet.TaskName, dataOptions);
            movieLensMetrics = new Dictionary<string, double>();
            (lastRating, curve) = evaluations.MovieLens(data, Suites.Get("icl").Budget, movieLensMetrics);
        }
        return new IclCheckpointResult(checkpoint.Path, config.Name, config.Preset, config.Steps, tasks, trained, behaviour, probes, curve, lastRating, movieLensMetrics);
    }
}
