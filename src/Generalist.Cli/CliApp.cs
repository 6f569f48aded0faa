using System.CommandLine;
using System.Text.Json;
using System.Text.Json.Serialization;
using Generalist.Torch;
using Generalist.RunFormat;

namespace Generalist.Cli;

/// <summary>Exit codes shared by every command.</summary>
public static class ExitCodes
{
    public const int Ok = 0;
    public const int Failed = 1;
    /// <summary>Invalid input: a one-line error naming the field and the allowed range.</summary>
    public const int InvalidInput = 2;
}

/// <summary>An input problem reported as one line and exit code 2.</summary>
public sealed class CliInputException(string message) : Exception(message);

public static class CliApp
{
    /// <summary>
    /// Every --json result: snake_case keys (dictionary keys are data, such as task names, and stay
    /// as they are), and NaN or infinite numbers written as null.
    /// </summary>
    public static readonly JsonSerializerOptions Json = new()
    {
        WriteIndented = true,
        PropertyNamingPolicy = JsonNamingPolicy.SnakeCaseLower,
        DictionaryKeyPolicy = null,
        DefaultIgnoreCondition = JsonIgnoreCondition.Never,
        Converters = { new Output.JsonOutput.FiniteDoubleConverter(), new Output.JsonOutput.FiniteSingleConverter() },
    };

    /// <summary>The shared --json option: results as JSON on stdout, nothing else there.</summary>
    public static Option<bool> JsonOption() => new("--json") { Description = "Write the result as JSON to stdout." };

    /// <summary>
    /// The parser names .NET types ("System.Nullable`1[System.Int32]"); say what a user should type
    /// instead, with the field's real range where the option sets a run config field (--steps,
    /// --batch-size: "a whole number in [1, 10000000]", not the range of an Int32).
    /// </summary>
    internal static string Readable(string message) =>
        System.Text.RegularExpressions.Regex.Replace(message, @"(for option '([^']*)' )?as expected type '([^']*)'", m =>
        {
            var type = m.Groups[3].Value;
            var field = m.Groups[2].Value.TrimStart('-').Replace('-', '_');
            var rule = field.Length == 0 ? null : RunConfigFields.All.FirstOrDefault(f => f.Path == field)?.Rule.Requirement;
            var range = rule is not null && rule.StartsWith("in ", StringComparison.Ordinal) ? " " + rule : "";
            var what = type.Contains("Int32") || type.Contains("Int64") ? "a whole number" + range
                : type.Contains("Double") || type.Contains("Single") ? "a number" + range
                : type.Contains("Boolean") ? "true or false"
                : type.Contains("FileInfo") || type.Contains("DirectoryInfo") ? "a path"
                : "a value of the right kind";
            return $"{m.Groups[1].Value}as {what}";
        });

    /// <summary>The subcommand names from the root down (empty for the root itself).</summary>
    private static IEnumerable<string> CommandPath(System.CommandLine.Parsing.CommandResult result)
    {
        var names = new Stack<string>();
        for (var r = result; r?.Parent is System.CommandLine.Parsing.CommandResult parent; r = parent) names.Push(r.Command.Name);
        return names;
    }

    public static void WriteJson<T>(T value) => Console.Out.WriteLine(JsonSerializer.Serialize(value, Json));

    /// <summary>Runs the parsed command; maps known input errors to one line on stderr and exit 2.</summary>
    public static async Task<int> InvokeAsync(RootCommand root, string[] args)
    {
        // Redirected, Spectre lays text out for 80 columns and breaks long lines mid-word; a pipe
        // has no width, so give it room (tables become tab-separated there, see Output.CliTable).
        if (Console.IsOutputRedirected) Spectre.Console.AnsiConsole.Profile.Width = 4096;
        var parse = root.Parse(args);
        // Parser errors (an unknown option, "abc" for a number) are input errors like any other:
        // one line each on stderr and exit 2, not the parser's default help dump and exit 1.
        if (parse.Errors.Count > 0 && parse.Action is not System.CommandLine.Help.HelpAction)
        {
            // One line per error, the pointer to help on the first (a single mistake is a single line).
            var help = $" (see: {string.Join(' ', CommandPath(parse.CommandResult).Prepend("generalist"))} --help)";
            for (var i = 0; i < parse.Errors.Count; i++)
                Console.Error.WriteLine($"error: {Readable(parse.Errors[i].Message).TrimEnd('.')}{(i == 0 ? help : "")}");
            return ExitCodes.InvalidInput;
        }
        try
        {
            // Let exceptions reach the handler below: the default one prints a stack trace and exits 1.
            return await parse.InvokeAsync(new InvocationConfiguration { EnableDefaultExceptionHandler = false });
        }
        catch (Exception e) when (IsInputError(Unwrap(e)))
        {
            var inner = Unwrap(e);
            Console.Error.WriteLine($"error: {OneLine(inner.Message)}");
            return ExitCodes.InvalidInput;
        }
        catch (OperationCanceledException)
        {
            Console.Error.WriteLine("cancelled");
            return ExitCodes.Failed;
        }
        catch (Exception e)
        {
            // Anything else is a failure of the job, not of the input: one line, exit 1.
            var inner = Unwrap(e);
            // The message only: a .NET type name says nothing to a user (GENERALIST_DEBUG=1 adds the stack trace).
            Console.Error.WriteLine($"error: {OneLine(inner.Message)}");
            if (Environment.GetEnvironmentVariable("GENERALIST_DEBUG") == "1") Console.Error.WriteLine(inner);
            return ExitCodes.Failed;
        }
    }

    /// <summary>
    /// Errors the user can fix by changing the input or the place they point at: one line, exit 2.
    /// A directory another live process owns is one (choose another, or wait for it).
    /// </summary>
    internal static bool IsInputError(Exception e) =>
        e is CliInputException or ConfigException or TorchLoadException or ArgumentException or FileNotFoundException
            or DirectoryNotFoundException or InvalidDataException or Generalist.Training.Ownership.DirectoryInUseException;

    /// <summary>A message on one line: some (a libtorch error, a launcher's output) carry newlines of their own.</summary>
    internal static string OneLine(string message) =>
        System.Text.RegularExpressions.Regex.Replace(message.Trim(), @"\s*[\r\n]+\s*", " | ");

    private static Exception Unwrap(Exception e) =>
        e is AggregateException { InnerExceptions.Count: 1 } a ? Unwrap(a.InnerExceptions[0])
        : e is TypeInitializationException { InnerException: { } t } ? Unwrap(t)
        : e;
}
