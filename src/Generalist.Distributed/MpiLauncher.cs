using System.Text;

namespace Generalist.Distributed;

/// <summary>
/// Turns a launcher template (<see cref="DistributedConfig.Launcher"/>) into the argument vector of
/// the launching process: "mpirun -np {ranks} --hostfile hosts {command}" with ranks 4 and command
/// ["generalist", "train", "--config", "a b.json"] gives mpirun, -np, 4, --hostfile, hosts,
/// generalist, train, --config, "a b.json" — the command's arguments stay separate words, never
/// re-parsed by a shell. Words in the template may be quoted with ' or ".
/// </summary>
public static class MpiLauncher
{
    public const string RanksPlaceholder = "{ranks}";
    public const string CommandPlaceholder = "{command}";

    public static IReadOnlyList<string> Render(string template, int ranks, IReadOnlyList<string> command)
    {
        if (ranks < 1) throw new DistributedException($"distributed.ranks must be >= 1 (got {ranks})");
        if (command.Count == 0) throw new DistributedException("the command to launch is empty");
        var words = Split(template);
        if (words.Count(w => w == CommandPlaceholder) != 1)
            throw new DistributedException($"distributed.launcher must hold {CommandPlaceholder} exactly once as a word of its own (got '{template}')");
        var argv = new List<string>();
        foreach (var word in words)
        {
            if (word == CommandPlaceholder) argv.AddRange(command);
            else argv.Add(word.Replace(RanksPlaceholder, ranks.ToString(), StringComparison.Ordinal));
        }
        // Open MPI refuses to start as root unless told; containers commonly run as root.
        if (Path.GetFileName(argv[0]) is "mpirun" or "mpiexec" && Environment.UserName == "root" && !argv.Contains("--allow-run-as-root"))
            argv.Insert(1, "--allow-run-as-root");
        return argv;
    }

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
}
