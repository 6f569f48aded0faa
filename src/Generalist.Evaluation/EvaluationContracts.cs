using Generalist.Evaluation.Statistics;

namespace Generalist.Evaluation;

/// <summary>
/// Evaluate one checkpoint on a named suite (control, vision-language, language, icl, default, all).
/// Tasks: when given, exactly these tasks (of the suite) are evaluated, trained on or not; when null,
/// the suite's tasks that the checkpoint was trained on.
/// </summary>
public sealed record EvaluationRequest(
    string CheckpointPath,
    string Suite = "default",
    int Episodes = 50,
    long Seed = 1_000_003,
    bool Greedy = true,
    string Device = "cpu",
    IReadOnlyList<string>? Tasks = null);

/// <summary>One task's result. Metric names: normalized_score, return, loss, bits_per_byte, exact_match, token_accuracy, mse, rmse, ...</summary>
public sealed record TaskScore(
    string Task,
    string Family,
    IReadOnlyDictionary<string, double> Metrics,
    double? NormalizedScore);

public sealed record EvaluationResult(
    string CheckpointPath,
    string Suite,
    IReadOnlyList<TaskScore> Tasks,
    double? MeanNormalizedScore,
    int TasksAtOrAbove50,
    int TasksAtOrAbove80,
    string JsonPath,
    string MarkdownPath,
    ControlSummary? Control = null);

/// <summary>
/// Control tasks together. Episode scores are expert-normalized per episode (a task's score is their
/// mean); intervals are percentile bootstrap intervals, stratified over each task's episodes, with
/// the expert and random references held fixed (Statistics/EpisodeScores.cs).
/// </summary>
/// <param name="EpisodesRequested">Episodes per task the request asked for.</param>
/// <param name="EpisodesPerTask">Episodes per task evaluated: the request's, up to the suite's cap.</param>
/// <param name="EpisodesCapped">Whether the suite's cap cut the request (<see cref="CapNote"/> says so in words).</param>
/// <param name="Decoding">How actions were chosen, e.g. "greedy (continuous actions: expected)".</param>
/// <param name="InterquartileMean">IQM of every episode score of every task (Agarwal et al. 2021).</param>
public sealed record ControlSummary(
    int EpisodesRequested,
    int EpisodesPerTask,
    bool EpisodesCapped,
    string? CapNote,
    string Decoding,
    int Tasks,
    double? MeanNormalizedScore,
    Interval? MeanInterval,
    double? InterquartileMean,
    Interval? InterquartileMeanInterval,
    int TasksAtOrAbove50,
    int TasksAtOrAbove80,
    int BootstrapSamples,
    long BootstrapSeed);

/// <summary>
/// Progress while an evaluation runs: Done of Total counted in Unit ("task": tasks started;
/// "episode": a control task's episodes played). Note, when set, is said beside it (e.g. the
/// suite capped the episodes).
/// </summary>
public sealed record EvaluationProgress(string Task, int Done, int Total, string? Note = null, string Unit = EvaluationProgress.Tasks)
{
    public const string Tasks = "task";
    public const string Episodes = "episode";
}

public interface IEvaluator
{
    Task<EvaluationResult> EvaluateAsync(EvaluationRequest request, IProgress<EvaluationProgress>? progress, CancellationToken cancellationToken);
}
