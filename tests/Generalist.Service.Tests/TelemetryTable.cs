using System.Runtime.CompilerServices;

namespace Generalist.Service.Tests;

/// <summary>The table of exported series in src/Generalist.Service/README.md ("Telemetry").</summary>
public static class TelemetryTable
{
    public sealed record Row(string Series, string Kind, string Unit, IReadOnlySet<string> Attributes);

    public static string RepositoryRoot([CallerFilePath] string source = "") =>
        Path.GetFullPath(Path.Combine(Path.GetDirectoryName(source)!, "..", ".."));

    /// <summary>The rows of the table whose header starts with `| series |`.</summary>
    public static IReadOnlyList<Row> Read()
    {
        var lines = File.ReadAllLines(Path.Combine(RepositoryRoot(), "src", "Generalist.Service", "README.md"));
        var header = Array.FindIndex(lines, l => l.StartsWith("| series |", StringComparison.Ordinal));
        if (header < 0) throw new InvalidDataException("src/Generalist.Service/README.md has no table starting with \"| series |\"");
        var rows = new List<Row>();
        foreach (var line in lines.Skip(header + 2).TakeWhile(l => l.StartsWith('|')))
        {
            var cells = line.Trim('|').Split('|').Select(c => c.Trim()).ToArray();
            var attributes = cells[4].Split(',', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries).ToHashSet(StringComparer.Ordinal);
            rows.Add(new Row(cells[0].Trim('`'), cells[2], cells[3], attributes));
        }
        return rows;
    }
}
