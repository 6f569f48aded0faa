using System.CommandLine;
using System.CommandLine.Completions;
using Generalist.Datasets;
using Generalist.Envs;
using Generalist.Evaluation;
using Generalist.Model;
using Generalist.Torch;

namespace Generalist.Cli;

/// <summary>
/// Values that shell completion (`generalist completion bash|zsh`) offers for options whose
/// allowed values the project knows: presets, suites, environments, tasks, precisions, devices.
/// Attached by option name over the whole command tree once, so a new command's `--preset`
/// completes without anyone remembering to wire it. `--tasks` completes the item after the last
/// comma and keeps what was typed before it (`cartpole:2,te` offers `cartpole:2,text`).
/// </summary>
public static class OptionCompletions
{
    private static readonly Dictionary<string, Func<IReadOnlyList<string>>> ValuesByOption = new(StringComparer.Ordinal)
    {
        ["--preset"] = () => ModelPresets.Names,
        ["--suite"] = () => Suites.Names,
        ["--env"] = () => EnvRegistry.Names,
        ["--precision"] = () => ComputeSettings.PrecisionNames,
        ["--device"] = () => ComputeSettings.DeviceNames,
        ["--policy"] = () => ["expert", "random"],
    };

    public static void Attach(Command command)
    {
        foreach (var option in command.Options)
        {
            if (option.Name == "--tasks") option.CompletionSources.Add(TaskItems);
            else if (ValuesByOption.TryGetValue(option.Name, out var values))
                option.CompletionSources.Add(_ => values().Select(v => new CompletionItem(v)));
        }
        foreach (var sub in command.Subcommands) Attach(sub);
    }

    private static IEnumerable<CompletionItem> TaskItems(CompletionContext context)
    {
        var word = context.WordToComplete;
        var comma = word.LastIndexOf(',');
        var typed = comma < 0 ? "" : word[..(comma + 1)];
        return TaskCatalog.Names.Select(name => new CompletionItem(typed + name));
    }
}
