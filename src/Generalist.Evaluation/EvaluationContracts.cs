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
    string MarkdownPath);

/// <summary>Progress while an evaluation runs (task finished, episodes done).</summary>
public sealed record EvaluationProgress(string Task, int Done, int Total);

public interface IEvaluator
{
    Task<EvaluationResult> EvaluateAsync(EvaluationRequest request, IProgress<EvaluationProgress>? progress, CancellationToken cancellationToken);
}
