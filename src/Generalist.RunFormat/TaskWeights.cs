using System.Globalization;
using Generalist.Datasets;

namespace Generalist.RunFormat;

/// <summary>
/// The one task-list syntax of every way into a run (`train --tasks`, `runs create --tasks`, the
/// service's CreateRun tasks, `config show --tasks`): comma-separated names, each with an optional
/// ":WEIGHT" (relative sampling weight, default 1), e.g. "cartpole:2,text". Errors are
/// <see cref="ConfigException"/>s whose field names the item (tasks[i].name, tasks[i].weight).
/// </summary>
public static class TaskWeights
{
    public const string Syntax = "NAME[:WEIGHT],... e.g. cartpole:2,text";

    /// <summary>The tasks every command knows, for help texts and errors.</summary>
    public static string Known => string.Join(", ", TaskCatalog.Names);

    /// <summary>Parses one or more lists (a repeated request field gives several); <paramref name="weights"/>
    /// false refuses ":WEIGHT" (commands that only pick tasks). <paramref name="checkValues"/> false
    /// checks the syntax only and leaves names, weights and repeats to <see cref="RunConfig.ValidateForTraining"/>,
    /// so a caller that reports every field at once (the service) still does.</summary>
    public static IReadOnlyList<TaskWeight> Parse(IEnumerable<string> lists, bool weights = true, bool checkValues = true)
    {
        var result = new List<TaskWeight>();
        foreach (var part in lists.SelectMany(l => l.Split(',', StringSplitOptions.TrimEntries | StringSplitOptions.RemoveEmptyEntries)))
        {
            var i = result.Count;
            var colon = part.IndexOf(':');
            var name = (colon < 0 ? part : part[..colon]).Trim();
            if (checkValues && !TaskCatalog.Names.Contains(name))
                throw new ConfigException($"tasks[{i}].name", $"unknown task '{name}'; valid tasks: {Known}");
            var weight = 1.0;
            if (colon >= 0)
            {
                if (!weights) throw new ConfigException($"tasks[{i}].weight", $"'{part}': this command takes task names without :WEIGHT");
                var w = part[(colon + 1)..].Trim();
                if (!double.TryParse(w, NumberStyles.Float, CultureInfo.InvariantCulture, out weight) || (checkValues && (!(weight > 0) || !double.IsFinite(weight))))
                    throw new ConfigException($"tasks[{i}].weight", $"'{part}': the weight after ':' must be a finite number > 0 (got '{w}')");
            }
            if (checkValues && result.Any(t => t.Name == name)) throw new ConfigException($"tasks[{i}].name", $"task '{name}' is listed twice");
            result.Add(new TaskWeight(name, weight));
        }
        if (result.Count == 0) throw new ConfigException("tasks", $"must name at least one task ({Syntax})");
        return result;
    }

    /// <summary>The list back in the syntax (weights of 1 left out), e.g. for a request's repeated field.</summary>
    public static IEnumerable<string> Format(IEnumerable<TaskWeight> tasks) =>
        tasks.Select(t => t.Weight == 1.0 ? t.Name : $"{t.Name}:{t.Weight.ToString("R", CultureInfo.InvariantCulture)}");
}
