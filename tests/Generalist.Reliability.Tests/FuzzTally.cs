using System.Diagnostics;
using System.Text.RegularExpressions;

namespace Generalist.Reliability.Tests;

/// <summary>
/// Counts a bounded fuzz run: cases tried, accepted, rejected per error kind, and the most managed
/// memory one case allocated. Any exception type other than the expected one fails the run with the
/// case that caused it (seed and case number, so it can be replayed).
/// </summary>
internal sealed partial class FuzzTally(string what, int seed)
{
    private readonly Stopwatch _clock = Stopwatch.StartNew();
    public SortedDictionary<string, int> Rejected { get; } = new(StringComparer.Ordinal);
    public int Cases { get; private set; }
    public int Accepted { get; private set; }
    public long MaxCaseBytes { get; private set; }
    public TimeSpan MaxCaseTime { get; private set; }

    public bool KeepGoing(TimeSpan budget, int maxCases) => _clock.Elapsed < budget && Cases < maxCases;

    /// <summary>Runs one case; <typeparamref name="TExpected"/> is a rejection, classified by <paramref name="kind"/>.</summary>
    public void Case<TExpected>(Action attempt, Func<TExpected, string> kind, Func<string> describe) where TExpected : Exception
    {
        var before = GC.GetAllocatedBytesForCurrentThread();
        var clock = Stopwatch.StartNew();
        try
        {
            attempt();
            Accepted++;
        }
        catch (TExpected e)
        {
            var k = kind(e);
            Rejected[k] = Rejected.GetValueOrDefault(k) + 1;
        }
        catch (Exception e)
        {
            Assert.Fail($"{what} fuzz (seed {seed}, case {Cases}): {e.GetType().Name} instead of {typeof(TExpected).Name} for {describe()}:\n{e}");
        }
        finally
        {
            Cases++;
            MaxCaseBytes = Math.Max(MaxCaseBytes, GC.GetAllocatedBytesForCurrentThread() - before);
            if (clock.Elapsed > MaxCaseTime) MaxCaseTime = clock.Elapsed;
        }
    }

    public void Report(Figures figures)
    {
        figures.Add($"{what} fuzz: cases", Cases, "cases", $"seed {seed}, {_clock.Elapsed.TotalSeconds:F1} s");
        figures.Add($"{what} fuzz: accepted (mutation left a valid input)", Accepted, "cases");
        foreach (var (kind, n) in Rejected) figures.Add($"{what} fuzz: rejected, {kind}", n, "cases");
        figures.Add($"{what} fuzz: most managed memory one case allocated", MaxCaseBytes / 1024.0, "KiB");
        figures.Add($"{what} fuzz: slowest case", MaxCaseTime.TotalMilliseconds, "ms");
    }

    /// <summary>
    /// An error message reduced to its kind: the file path, numbers, quoted names and bracketed lists
    /// taken out, and cut at the first detail (parenthesis, semicolon or colon), so alike errors count together.
    /// </summary>
    public static string Normalize(string message, string? path = null)
    {
        if (path is not null && message.StartsWith(path, StringComparison.Ordinal)) message = message[path.Length..].TrimStart(':', ' ');
        message = QuotedOrNumber().Replace(message, "#");
        message = Bracketed().Replace(message, "[#]");
        if (message.StartsWith("tensor #: ", StringComparison.Ordinal)) message = message["tensor #: ".Length..];
        var cut = message.IndexOfAny(['(', ';', ':']);
        if (cut > 0) message = message[..cut];
        message = message.Trim().TrimEnd('.', ',');
        return message.Length > 60 ? message[..60] : message;
    }

    [GeneratedRegex(@"\[[^\]]*\]")]
    private static partial Regex Bracketed();

    [GeneratedRegex(@"'[^']*'|""[^""]*""|0x[0-9A-Fa-f]+|(?<![A-WYZa-wyz0-9-])-?\d+(\.\d+)?(E[+-]?\d+)?|\$[\w.\[\]#]*")]
    private static partial Regex QuotedOrNumber();
}
