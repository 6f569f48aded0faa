namespace Generalist.Evaluation;

/// <summary>
/// Where a suite's results go beside a checkpoint's weights: evaluation-SUITE.json, .md and the
/// evaluation-SUITE-plots/ folder. One set per suite, so evaluating another suite never overwrites
/// the report of the last.
/// </summary>
public static class EvaluationFiles
{
    public static string Json(string checkpointDirectory, string suite) => Path.Combine(checkpointDirectory, $"evaluation-{suite}.json");
    public static string Markdown(string checkpointDirectory, string suite) => Path.Combine(checkpointDirectory, $"evaluation-{suite}.md");
    public static string Plots(string checkpointDirectory, string suite) => Path.Combine(checkpointDirectory, $"evaluation-{suite}-plots");
}
