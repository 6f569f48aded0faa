using System.Text;
using System.Text.RegularExpressions;

namespace Generalist.Distributed;

/// <summary>
/// Turns a launcher template (<see cref="DistributedConfig.Launcher"/>, the service's
/// Service:Launcher) into the argument vector of the launching process: "mpirun -np {ranks}
/// --hostfile hosts {command}" with ranks 4 and command ["generalist", "train", "--config", "a b.json"]
/// gives mpirun, -np, 4, --hostfile, hosts, generalist, train, --config, "a b.json" — the command's
/// arguments stay separate words, never re-parsed by a shell. Words in the template may be quoted
/// with ' or ". Written by hand: no held package splits command lines without a shell.
/// </summary>
public static partial class MpiLauncher
{
    public const string RanksPlaceholder = "{ranks}";
    public const string CommandPlaceholder = "{command}";
    public const string DefaultTemplate = "mpirun -np {ranks} -x TERM=dumb {command}";

    /// <summary>
    /// Everything wrong with a template, one line each (empty when it is usable): balanced quotes,
    /// a program to run first, {command} exactly once as a word of its own, {ranks} at least once
    /// (otherwise the rank count asked for would be silently ignored) and no other {placeholder}.
    /// </summary>
    public static List<string> Problems(string? template)
    {
        const string example = "e.g. \"mpirun -np {ranks} --hostfile hosts {command}\" or \"srun --ntasks={ranks} {command}\"";
        if (string.IsNullOrWhiteSpace(template)) return [$"must be a command template, {example}"];
        List<string> words;
        try
        {
            words = Split(template);
        }
        catch (DistributedException e)
        {
            return [e.Message];
        }
        var problems = new List<string>();
        if (words.Count(w => w == CommandPlaceholder) != 1)
            problems.Add($"must hold {CommandPlaceholder} exactly once as a word of its own, where the `generalist train` command goes ({example}; got '{template}')");
        if (!words.Any(w => w.Contains(RanksPlaceholder, StringComparison.Ordinal)))
            problems.Add($"must hold {RanksPlaceholder} where the number of ranks goes ({example}; got '{template}')");
        if (words.Count > 0 && words[0].Contains('{'))
            problems.Add($"must start with the launching program (mpirun, mpiexec, srun...), not a placeholder (got '{template}')");
        foreach (Match m in Placeholder().Matches(template))
            if (m.Value is not (RanksPlaceholder or CommandPlaceholder))
                problems.Add($"has an unknown placeholder {m.Value}; only {RanksPlaceholder} and {CommandPlaceholder} exist");
        return problems;
    }

    /// <summary>Throws a DistributedException naming the field when the template is not usable.</summary>
    public static void Validate(string? template, string field = "distributed.launcher")
    {
        var problems = Problems(template);
        if (problems.Count > 0) throw new DistributedException($"{field} {string.Join("; ", problems)}");
    }

    public static IReadOnlyList<string> Render(string template, int ranks, IReadOnlyList<string> command)
    {
        if (ranks < 1) throw new DistributedException($"distributed.ranks must be >= 1 (got {ranks})");
        if (command.Count == 0) throw new DistributedException("the command to launch is empty");
        Validate(template);
        var argv = new List<string>();
        foreach (var word in Split(template))
        {
            if (word == CommandPlaceholder) argv.AddRange(command);
            else argv.Add(word.Replace(RanksPlaceholder, ranks.ToString(), StringComparison.Ordinal));
        }
        // Open MPI refuses to start as root unless told; containers commonly run as root.
        if (IsOpenMpi(argv[0]) && Environment.UserName == "root" && !argv.Contains("--allow-run-as-root"))
            argv.Insert(1, "--allow-run-as-root");
        return argv;
    }

    /// <summary>True for Open MPI's launchers (mpirun, mpiexec, orterun), by file name.</summary>
    public static bool IsOpenMpi(string program) => Path.GetFileName(program) is "mpirun" or "mpiexec" or "orterun";

    /// <summary>Splits on whitespace, honouring '...' and "..." quoting (no escapes, no expansion).</summary>
    public static List<string> Split(string template)
    {
        var words = new List<string>();
        var current = new StringBuilder();
        char? quote = null;
        var inWord = false;
        foreach (var c in template)
        {
            if (quote is not null)
            {
                if (c == quote) quote = null;
                else current.Append(c);
            }
            else if (c is '\'' or '"') { quote = c; inWord = true; }
            else if (char.IsWhiteSpace(c))
            {
                if (inWord) words.Add(current.ToString());
                current.Clear();
                inWord = false;
            }
            else { current.Append(c); inWord = true; }
        }
        if (quote is not null) throw new DistributedException($"distributed.launcher has an unclosed {quote} quote: '{template}'");
        if (inWord) words.Add(current.ToString());
        return words;
    }

    [GeneratedRegex(@"\{[A-Za-z_]+\}")]
    private static partial Regex Placeholder();
}
