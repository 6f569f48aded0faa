using Generalist.RunFormat;

namespace Generalist.Cli;

/// <summary>
/// --tasks on the command line: the one task-list syntax (<see cref="TaskWeights"/>, shared with
/// the service), its errors named by the flag. Commands that only pick tasks (eval, data prepare)
/// refuse weights.
/// </summary>
public static class TaskList
{
    public const string Syntax = TaskWeights.Syntax;

    /// <summary>The tasks every command knows, for help texts.</summary>
    public static string Known => TaskWeights.Known;

    public static IReadOnlyList<TaskWeight> Parse(string text, bool weights = true, string flag = "--tasks")
    {
        try
        {
            return TaskWeights.Parse([text], weights);
        }
        catch (ConfigException e)
        {
            throw new CliInputException(e.Field == "tasks" ? $"{flag} {e.Message}" : $"{flag}: {e.Message}");
        }
    }

    /// <summary>The names only (eval, data prepare).</summary>
    public static IReadOnlyList<string> Names(string text, string flag = "--tasks") => Parse(text, weights: false, flag).Select(t => t.Name).ToList();

    /// <summary>As the service's CreateRunRequest.tasks expects them: "name" or "name:weight".</summary>
    public static IEnumerable<string> ToRequest(IEnumerable<TaskWeight> tasks) => TaskWeights.Format(tasks);
}
