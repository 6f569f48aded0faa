using Generalist.Datasets;
using Generalist.Datasets.Cache;
using Generalist.Datasets.Sets;
using Generalist.Envs;
using Generalist.Evaluation.Scoring;
using Generalist.Evaluation.Statistics;
using Generalist.Tokenizers;
using static TorchSharp.torch;
using Generalist.Episodes;
using Generalist.RunFormat;
using Generalist.Torch;

namespace Generalist.Evaluation;

/// <summary>
/// Evaluates a checkpoint on a suite: per task the held-out loss, plus the family's own metrics
/// (rollout returns and expert-normalized score, bits per byte, caption exact match and token
/// accuracy, in-context MSE vs k and MovieLens RMSE beside their baselines). Writes
/// evaluation-SUITE.json and evaluation-SUITE.md (with plots) into the checkpoint directory (<see cref="EvaluationFiles"/>).
/// </summary>
public sealed class Evaluator(EvaluatorOptions? options = null) : IEvaluator
{
    private readonly EvaluatorOptions _options = options ?? new EvaluatorOptions();

    public Task<EvaluationResult> EvaluateAsync(EvaluationRequest request, IProgress<EvaluationProgress>? progress, CancellationToken cancellationToken) =>
        // Torch work runs on its own thread, like training: it is synchronous and long.
        Task.Factory.StartNew(() => Evaluate(request, progress, cancellationToken), cancellationToken, TaskCreationOptions.LongRunning, TaskScheduler.Default);

    private EvaluationResult Evaluate(EvaluationRequest request, IProgress<EvaluationProgress>? progress, CancellationToken ct)
    {
        Validate(request);
        var suite = Suites.Get(request.Suite);
        var device = new Device(request.Device);
        var load = _options.LoadCheckpoint ?? CheckpointLoading.Load;
        using var checkpoint = load(request.CheckpointPath, device);
        // A run directory resolves to its newest checkpoint; results go beside the weights used.
        request = request with { CheckpointPath = checkpoint.Path };
        var config = checkpoint.Config;
        var trained = config.Tasks.Select(t => t.Name).ToList();
        var requested = request.Tasks is { Count: > 0 } explicitTasks ? explicitTasks.Distinct().ToList() : trained;
        foreach (var t in requested.Where(t => !TaskCatalog.Names.Contains(t)))
            throw new ArgumentException($"tasks: unknown task '{t}'; valid tasks: {string.Join(", ", TaskCatalog.Names)}");
        var tasks = requested.Where(t => suite.Families.Contains(TaskCatalog.Describe(t).Family)).ToList();
        // Nothing to evaluate is a mistake to name, not an empty report over the last suite's.
        if (tasks.Count == 0)
            throw new ArgumentException($"suite: '{suite.Name}' covers {string.Join(", ", suite.Families.Select(FamilyName))} tasks, and none of " +
                $"{(request.Tasks is { Count: > 0 } ? "the --tasks given" : "the checkpoint's tasks")} ({string.Join(", ", requested)}) is one; " +
                "choose a suite that covers them, or name tasks of this suite with --tasks");
        var episodes = Math.Min(request.Episodes, suite.Budget.MaxEpisodes);
        // A cut request is said wherever results are read (progress, evaluation.md, JSON), never silently applied.
        var capNote = episodes < request.Episodes && tasks.Any(t => TaskCatalog.Describe(t).Family == TaskFamily.Control) ? $"suite '{suite.Name}' caps control episodes at {suite.Budget.MaxEpisodes}; {request.Episodes} requested" : null;
        var decoding = new ActionDecoding(request.Greedy, request.Seed, _options.ContinuousDecoding);
        var model = checkpoint.Model;
        var builder = new SequenceBuilder(VocabularyLayout.Default, model.Config.ContextLength, model.Config.PatchSize);
        var evaluations = new TaskEvaluations(model, builder, _options, device);
        // The run's own data options (action noise included): the training bins the diagnostics
        // compare against are those of the shards the run trained on, not shards built anew.
        var dataOptions = config.DataOptionsIn(PackageCache.DefaultRoot());
        var run = new RunContext(
            name => _options.CreateEnvironment?.Invoke(name, config) ?? TaskCatalog.CreateEnvironment(name, dataOptions, heldOut: true),
            env => _options.CreateExpert?.Invoke(env) ?? EnvRegistry.Expert(env));
        var scores = new List<TaskScore>();
        var curves = new Dictionary<string, (ErrorCurve Model, IReadOnlyList<ErrorCurve> Baselines)>();
        var ratingBaselines = new Dictionary<string, IReadOnlyList<BaselineRmse>>();
        var icl = new Dictionary<string, InContext.IclReport>();
        var ratingCurves = new Dictionary<string, InContext.RatingCurveReport>();
        var examples = new List<string>();
        var episodeScores = new List<IReadOnlyList<double>>();
        var filmstrips = new Dictionary<string, IReadOnlyList<FilmstripFrame>>();
        for (var i = 0; i < tasks.Count; i++)
        {
            ct.ThrowIfCancellationRequested();
            var name = tasks[i];
            progress?.Report(new EvaluationProgress(name, i, tasks.Count));
            if (TaskCatalog.Describe(name).Family == TaskFamily.Control) CheckSeedsDisjoint(name, request.Seed, episodes, config);
            var data = _options.LoadTask?.Invoke(name, config) ?? TaskCatalog.Load(name, dataOptions);
            var metrics = evaluations.HeldOut(data, suite.Budget);
            double? score = null;
            switch (data.Family)
            {
                case TaskFamily.Control:
                    var outcome = evaluations.Control(data, run, episodes, request.Seed, decoding, trained.Contains(name), metrics,
                        new SynchronousProgress<int>(done => progress?.Report(new EvaluationProgress(name, done, episodes, capNote, EvaluationProgress.Episodes))));
                    score = outcome.Score;
                    metrics["episodes_requested"] = request.Episodes;
                    episodeScores.Add(outcome.EpisodeScores);
                    if (outcome.Filmstrip.Count > 0) filmstrips[name] = outcome.Filmstrip;
                    break;
                case TaskFamily.VisionLanguage:
                    evaluations.Captions(data, suite.Budget, metrics, examples);
                    break;
                case TaskFamily.InContext when name == IclRegressionSource.TaskName:
                    curves[name] = evaluations.Regression(data, suite.Budget, metrics);
                    icl[name] = evaluations.RegressionAnalysis(config.Seed, dataOptions.IclRegression ?? new IclRegressionOptions(), suite.Budget, metrics, _options.Bootstrap with { Samples = 1000 });
                    break;
                case TaskFamily.InContext when name == MovieLensSet.TaskName:
                    (ratingBaselines[name], ratingCurves[name]) = evaluations.MovieLens(data, suite.Budget, metrics);
                    break;
            }
            scores.Add(new TaskScore(name, FamilyName(data.Family), metrics, score));
        }
        progress?.Report(new EvaluationProgress("", tasks.Count, tasks.Count));
        var aggregate = NormalizedScore.Aggregate(scores.Select(s => s.NormalizedScore));
        var (meanInterval, iqmInterval) = EpisodeScores.Stratified(episodeScores, _options.Bootstrap);
        var control = new ControlSummary(request.Episodes, episodes, capNote is not null, capNote, decoding.Describe(), episodeScores.Count,
            aggregate.Mean, meanInterval, episodeScores.Count == 0 ? null : EpisodeScores.InterquartileMean(episodeScores.SelectMany(e => e).ToList()), iqmInterval,
            aggregate.AtOrAbove50, aggregate.AtOrAbove80, _options.Bootstrap.Samples, _options.Bootstrap.Seed);
        var result = new EvaluationResult(request.CheckpointPath, suite.Name, scores, aggregate.Mean, aggregate.AtOrAbove50, aggregate.AtOrAbove80,
            EvaluationFiles.Json(request.CheckpointPath, suite.Name), EvaluationFiles.Markdown(request.CheckpointPath, suite.Name), control);
        EvaluationReport.Write(result, request, config, curves, ratingBaselines, examples, filmstrips, icl, ratingCurves);
        return result;
    }

    public static string FamilyName(TaskFamily family) => family switch
    {
        TaskFamily.Control => "control",
        TaskFamily.VisionLanguage => "vision-language",
        TaskFamily.Language => "language",
        _ => "in-context",
    };

    private static void Validate(EvaluationRequest request)
    {
        if (string.IsNullOrWhiteSpace(request.CheckpointPath)) throw new ArgumentException("checkpoint: a checkpoint directory is required");
        if (!Directory.Exists(request.CheckpointPath)) throw new DirectoryNotFoundException($"checkpoint: directory not found: {request.CheckpointPath}");
        Suites.Get(request.Suite);
        if (request.Episodes is < 1 or > 10_000) throw new ArgumentException($"episodes: must be in [1, 10000] (got {request.Episodes})");
        if (!ComputeSettings.IsDevice(request.Device)) throw new ArgumentException($"device: must be \"cpu\" or \"cuda\" (got '{request.Device}')");
        if (request.Seed < 0) throw new ArgumentException($"seed: must be >= 0 (got {request.Seed})");
    }

    /// <summary>
    /// Evaluation seeds seed..seed+N-1 must avoid the seeds the task catalog used for this run's
    /// training and held-out expert episodes (base S*2^32 and S*2^32 + 2^31 with S the run seed).
    /// </summary>
    private static void CheckSeedsDisjoint(string task, long seed, int episodes, RunConfig config)
    {
        var options = config.DataOptionsIn(PackageCache.DefaultRoot());
        (long Start, long Count)[] used =
        [
            (ControlTrajectories.TrainingSeedBase(options.Seed), options.MaxTrainingEpisodes),
            (ControlTrajectories.HeldOutSeedBase(options.Seed), options.HeldOutEpisodes),
        ];
        foreach (var (start, count) in used)
            if (seed < start + count && start < seed + episodes)
                throw new ArgumentException($"seed: evaluation seeds [{seed}, {seed + episodes}) of '{task}' overlap the run's data seeds [{start}, {start + count}); choose another --seed");
    }
}

/// <summary>
/// Calls back synchronously on the reporting thread: Progress&lt;T&gt; posts to the thread pool,
/// where reports can overtake each other (and arrive after the work that reported them is done).
/// </summary>
public sealed class SynchronousProgress<T>(Action<T> report) : IProgress<T>
{
    public void Report(T value) => report(value);
}
