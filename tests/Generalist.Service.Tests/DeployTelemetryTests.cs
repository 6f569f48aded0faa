using System.Diagnostics;
using System.Text.Json;
using System.Text.RegularExpressions;

namespace Generalist.Service.Tests;

/// <summary>
/// deploy/telemetry without a running service: the dashboard and the alert rules read only series
/// the README table documents, and promtool (Debian's prometheus package; .ci/run installs it)
/// accepts the files and finds that each alert fires on the condition it names (alerts.test.yml).
/// </summary>
public partial class DeployTelemetryTests
{
    private const string Promtool = "/usr/bin/promtool";
    private static string Folder => Path.Combine(TelemetryTable.RepositoryRoot(), "deploy", "telemetry");

    [Fact]
    public void The_dashboard_and_the_alert_rules_read_only_documented_series()
    {
        var documented = TelemetryTable.Read().Select(r => r.Series).Append("up").ToHashSet(StringComparer.Ordinal);
        var dashboard = JsonDocument.Parse(File.ReadAllText(Path.Combine(Folder, "grafana-dashboard.json"))).RootElement;
        var expressions = dashboard.GetProperty("panels").EnumerateArray()
            .SelectMany(p => p.GetProperty("targets").EnumerateArray()).Select(t => t.GetProperty("expr").GetString()!).ToList();
        expressions.AddRange(AlertExpression().Matches(File.ReadAllText(Path.Combine(Folder, "alerts.yml"))).Select(m => m.Groups[1].Value));
        expressions.Add(dashboard.GetProperty("templating").GetProperty("list").EnumerateArray()
            .First(v => v.GetProperty("name").GetString() == "run").GetProperty("definition").GetString()!);
        Assert.True(expressions.Count(e => SeriesName().IsMatch(e)) > 15, $"only {expressions.Count} expressions found");
        foreach (var e in expressions)
            foreach (Match m in SeriesName().Matches(e))
            {
                var series = HistogramPart().Replace(m.Value, "");
                Assert.True(documented.Contains(series), $"`{e}` reads {m.Value}, which src/Generalist.Service/README.md does not list");
            }
    }

    [Fact]
    public void Promtool_accepts_the_files_and_each_alert_fires_on_its_condition()
    {
        Assert.True(File.Exists(Promtool), "promtool not installed: apt-get install prometheus (.ci/run does this)");
        RunPromtool("check", "config", Path.Combine(Folder, "prometheus.yml"));
        RunPromtool("check", "rules", Path.Combine(Folder, "alerts.yml"));
        RunPromtool("test", "rules", Path.Combine(Folder, "alerts.test.yml"));
    }

    private static void RunPromtool(params string[] args)
    {
        using var p = Process.Start(new ProcessStartInfo(Promtool, args) { RedirectStandardOutput = true, RedirectStandardError = true, WorkingDirectory = Folder })!;
        var output = p.StandardOutput.ReadToEndAsync();
        var error = p.StandardError.ReadToEndAsync();
        Assert.True(p.WaitForExit(60_000), $"promtool {string.Join(' ', args)} did not finish in 60 s");
        Assert.True(p.ExitCode == 0, $"promtool {string.Join(' ', args)}:\n{output.Result}{error.Result}");
    }

    [GeneratedRegex(@"^\s*expr:\s*(.+)$", RegexOptions.Multiline)]
    private static partial Regex AlertExpression();

    [GeneratedRegex(@"\b(?:generalist_[a-z0-9_]+|http_server_[a-z0-9_]+)")]
    private static partial Regex SeriesName();

    [GeneratedRegex(@"_(?:bucket|sum|count)$")]
    private static partial Regex HistogramPart();
}
