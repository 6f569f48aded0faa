using System.Globalization;
using System.Text.Json;
using Xunit.Abstractions;

namespace Generalist.Reliability.Tests;

/// <summary>
/// The measured numbers RELIABILITY.md quotes. Each test that measures something reports it here:
/// one line to the test output, and one JSON line appended to the figures file, so a run of the
/// suite re-measures them all. The file is GENERALIST_RELIABILITY_FIGURES when set, else
/// reliability-figures.jsonl beside the test binaries.
/// </summary>
internal sealed class Figures(ITestOutputHelper output, string scenario)
{
    private static readonly Lock FileLock = new();

    public static string FilePath =>
        Environment.GetEnvironmentVariable("GENERALIST_RELIABILITY_FIGURES") is { Length: > 0 } p ? p : Path.Combine(AppContext.BaseDirectory, "reliability-figures.jsonl");

    public void Add(string name, double value, string unit, string? detail = null)
    {
        output.WriteLine(string.Create(CultureInfo.InvariantCulture, $"[{scenario}] {name} = {value:G6} {unit}{(detail is null ? "" : $" ({detail})")}"));
        var line = JsonSerializer.Serialize(new { scenario, name, value, unit, detail, utc = DateTime.UtcNow });
        lock (FileLock) File.AppendAllText(FilePath, line + "\n");
    }
}
