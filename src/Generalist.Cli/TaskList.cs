using System.Globalization;
using Generalist.Datasets;
using Generalist.RunFormat;

namespace Generalist.Cli;

/// <summary>
/// The one --tasks syntax of every command: comma-separated names, each with an optional
/// ":WEIGHT" (relative sampling weight, default 1), e.g. "cartpole:2,text". Commands that only
/// pick tasks (eval, data prepare) refuse weights.
/// </summary>
public static class TaskList
{
    public const string Syntax = "NAME[:WEIGHT],... e.g. cartpole:2,text";

    /// <summary>The tasks every command knows, for help texts.</summary>
    public static string Known => string.Join(", ", TaskCatalog.Names);

    public static IReadOnlyList<TaskWeight> Parse(string text, bool weights = true, string flag = "--tasks")
    {
        var result = new List<TaskWeight>();
        foreach (var part in text.Split(',', StringSplitOptions.TrimEntries | StringSplitOptions.RemoveEmptyEntries))
        {
            var colon = part.IndexOf(':');
            var name = (colon < 0 ? part : part[..colon]).Trim();
            if (!TaskCatalog.Names.Contains(name))
                throw new CliInputException($"{flag}: unknown task '{name}'; valid tasks: {Known}");
            var weight = 1.0;
            if (colon >= 0)
            {
                if (!weights) throw new CliInputException($"{flag}: '{part}': this command takes task names without :WEIGHT");
                var w = part[(colon + 1)..].Trim();
                if (!double.TryParse(w, NumberStyles.Float, CultureInfo.InvariantCulture, out weight) || !(weight > 0) || !double.IsFinite(weight))
                    throw new CliInputException($"{flag}: '{part}': the weight after ':' must be a finite number > 0 (got '{w}')");
            }
            if (result.Any(t => t.Name == name)) throw new CliInputException($"{flag}: task '{name}' is listed twice");
            result.Add(new TaskWeight(name, weight));
        }
        if (result.Count == 0) throw new CliInputException($"{flag} must name at least one task ({Syntax})");
        return result;
    }

    /// <summary>The names only (eval, data prepare).</summary>
    public static IReadOnlyList<string> Names(string text, string flag = "--tasks") => Parse(text, weights: false, flag).Select(t => t.Name).ToList();

    /// <summary>As the service's CreateRunRequest.tasks expects them: "name" or "name:weight".</summary>
    public static IEnumerable<string> ToRequest(IEnumerable<TaskWeight> tasks) =>
        tasks.Select(t => t.Weight == 1.0 ? t.Name : $"{t.Name}:{t.Weight.ToString("R", CultureInfo.InvariantCulture)}");
}
