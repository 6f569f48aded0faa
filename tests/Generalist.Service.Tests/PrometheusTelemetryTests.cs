using System.Diagnostics;
using System.Net;
using System.Net.Sockets;
using System.Text.Json;
using System.Text.RegularExpressions;
using Generalist.Service.Api.V1;
using Grpc.Net.Client;
using Generalist.RunFormat;

namespace Generalist.Service.Tests;

/// <summary>
/// The shipped deploy/telemetry files on Debian's real `prometheus` (apt-get install prometheus;
/// .ci/run does this), scraping a real `generalist serve` that trains a tiny run and evaluates it:
/// every PromQL expression of the Grafana dashboard and every series the alert rules read return
/// data, every rule evaluates, and a failed run fires GeneralistRunFailed.
/// </summary>
[Collection(LiveTraining.Collection)]
public partial class PrometheusTelemetryTests
{
    private const string Prometheus = "/usr/bin/prometheus";
    private const string Promtool = "/usr/bin/promtool";
    // Shorter than the shipped 15 s so that a minute of training gives rate() windows their samples.
    private const string ScrapeInterval = "1s";
    private const string RateInterval = "30s";
    private static readonly TimeSpan DataDeadline = TimeSpan.FromMinutes(4);

    private static string Folder => Path.Combine(TelemetryTable.RepositoryRoot(), "deploy", "telemetry");

    [Fact]
    [Trait("Category", "Slow")]
    public async Task Every_dashboard_and_alert_expression_returns_data_on_a_real_Prometheus_scraping_a_training_service()
    {
        Assert.True(File.Exists(Prometheus) && File.Exists(Promtool), "prometheus not installed: apt-get install prometheus (.ci/run does this)");
        var work = Directory.CreateTempSubdirectory("generalist-prometheus-").FullName;
        var root = Directory.CreateDirectory(Path.Combine(work, "data")).FullName;
        Process? serve = null, prometheus = null;
        try
        {
            serve = Cli.Start("serve", "--data-root", root, "--port", "0", "--metrics-port", "0", "--max-concurrent-runs", "2");
            _ = serve.StandardError.ReadToEndAsync();
            var (grpc, metrics) = await Cli.WaitUntilListeningAsync(serve);
            var target = new Uri(metrics).Authority;

            // The shipped files with the service's real port and a short interval.
            var config = File.ReadAllText(Path.Combine(Folder, "prometheus.yml")).Replace("127.0.0.1:9464", target).Replace("15s", ScrapeInterval);
            File.WriteAllText(Path.Combine(work, "prometheus.yml"), config);
            File.Copy(Path.Combine(Folder, "alerts.yml"), Path.Combine(work, "alerts.yml"));
            Check(Promtool, "check", "config", Path.Combine(work, "prometheus.yml"));
            Check(Promtool, "check", "rules", Path.Combine(Folder, "alerts.yml"));

            var port = FreePort();
            prometheus = Process.Start(new ProcessStartInfo(Prometheus,
                [$"--config.file={Path.Combine(work, "prometheus.yml")}", $"--storage.tsdb.path={Path.Combine(work, "tsdb")}", $"--web.listen-address=127.0.0.1:{port}"])
            { RedirectStandardOutput = true, RedirectStandardError = true })!;
            _ = prometheus.StandardOutput.ReadToEndAsync();
            var prometheusLog = prometheus.StandardError.ReadToEndAsync();
            using var http = new HttpClient { BaseAddress = new Uri($"http://127.0.0.1:{port}") };
            await WaitAsync(async () => await Query(http, "up{job=\"generalist\"} == 1") > 0, "Prometheus scraping the service", prometheus, prometheusLog);

            using var channel = GrpcChannel.ForAddress(grpc);
            var runs = new Runs.RunsClient(channel);
            // A run that cannot start (no CUDA here): its failure is what GeneralistRunFailed reports.
            await runs.CreateRunAsync(new CreateRunRequest { ConfigJson = (TinyRun("doomed") with { Device = "cuda" }).ToJson() });
            await runs.CreateRunAsync(new CreateRunRequest { ConfigJson = TinyRun("graphed").ToJson() });
            await WaitAsync(async () => (await runs.GetRunAsync(new GetRunRequest { Name = "graphed" })).LastCheckpoint != "", "a checkpoint of the tiny run", prometheus, prometheusLog);
            var evaluations = new Evaluations.EvaluationsClient(channel);
            await evaluations.CreateEvaluationAsync(new CreateEvaluationRequest { Run = "graphed", Name = "graphed-eval", Suite = "control", Episodes = 2 });
            await WaitAsync(async () => (await evaluations.GetEvaluationAsync(new GetEvaluationRequest { Name = "graphed-eval" })).State == JobState.Succeeded,
                "the evaluation", prometheus, prometheusLog);
            Assert.Equal(JobState.Failed, (await runs.GetRunAsync(new GetRunRequest { Name = "doomed" })).State);

            var dashboard = DashboardExpressions();
            var alerts = AlertSelectors();
            Assert.True(dashboard.Count >= 10, $"only {dashboard.Count} dashboard expressions found");
            var expressions = dashboard.Concat(alerts).Distinct().ToList();
            List<string> empty = [];
            await WaitAsync(async () =>
            {
                empty = [];
                foreach (var e in expressions)
                    if (await Query(http, e) == 0) empty.Add(e);
                return empty.Count == 0;
            }, "data for every expression", prometheus, prometheusLog, () => "no data yet for:\n  " + string.Join("\n  ", empty));

            // The run variable of the dashboard lists the run.
            var runValues = JsonDocument.Parse(await http.GetStringAsync("/api/v1/label/run/values?match[]=generalist_train_steps_total")).RootElement.GetProperty("data");
            Assert.Contains("graphed", runValues.EnumerateArray().Select(v => v.GetString()));

            // Every rule evaluates without error, and the failed run fires its alert.
            await WaitAsync(async () => await Query(http, "ALERTS{alertname=\"GeneralistRunFailed\",alertstate=\"firing\"}") > 0, "GeneralistRunFailed firing", prometheus, prometheusLog);
            var rules = JsonDocument.Parse(await http.GetStringAsync("/api/v1/rules")).RootElement.GetProperty("data").GetProperty("groups")
                .EnumerateArray().SelectMany(g => g.GetProperty("rules").EnumerateArray()).ToList();
            Assert.Equal(["GeneralistDown", "GeneralistNoStepProgress", "GeneralistNonFiniteSkipsRising", "GeneralistRunFailed"], rules.Select(r => r.GetProperty("name").GetString()).Order());
            Assert.All(rules, r => Assert.True(r.GetProperty("health").GetString() == "ok",
                $"{r.GetProperty("name")}: {(r.TryGetProperty("lastError", out var error) ? error.GetString() : "health " + r.GetProperty("health"))}"));

            await runs.CancelRunAsync(new CancelRunRequest { Name = "graphed" });
        }
        finally
        {
            if (serve is { HasExited: false })
            {
                Process.Start("kill", ["-TERM", serve.Id.ToString()]).WaitForExit();
                if (!serve.WaitForExit(30_000)) serve.Kill(true);
            }
            if (prometheus is { HasExited: false })
            {
                prometheus.Kill();
                prometheus.WaitForExit(10_000);
            }
            serve?.Dispose();
            prometheus?.Dispose();
            TestService.TryDelete(work);
        }
    }

    /// <summary>A run long enough to be scraped while it trains (cancelled at the end), cheap per step: one thread, tiny model.</summary>
    internal static RunConfig TinyRun(string name) => new()
    {
        Name = name, Preset = "tiny", Tasks = [new("cartpole")], Steps = 1_000_000, BatchSize = 2, Threads = 1, PeakFlops = 1e11,
        Checkpoint = new CheckpointConfig { Every = 10, KeepLast = 2 }, HeldOut = new HeldOutConfig { Every = 5, Batches = 1 },
    };

    /// <summary>Every target expression of the dashboard, with Grafana's variables filled in as a user's "All" would.</summary>
    private static List<string> DashboardExpressions()
    {
        var json = JsonDocument.Parse(File.ReadAllText(Path.Combine(Folder, "grafana-dashboard.json"))).RootElement;
        var found = new List<string>();
        void Walk(JsonElement e)
        {
            if (e.ValueKind == JsonValueKind.Object)
                foreach (var p in e.EnumerateObject())
                {
                    if (p.Name == "expr" && p.Value.ValueKind == JsonValueKind.String) found.Add(p.Value.GetString()!);
                    else Walk(p.Value);
                }
            else if (e.ValueKind == JsonValueKind.Array)
                foreach (var item in e.EnumerateArray()) Walk(item);
        }
        Walk(json.GetProperty("panels"));
        return found.Select(e => e.Replace("$__rate_interval", RateInterval).Replace("$run", ".+")).ToList();
    }

    /// <summary>
    /// The series each alert rule reads (its vector selectors): a rule's condition is true only when
    /// something is wrong, but the series under it must exist for it ever to be.
    /// </summary>
    private static List<string> AlertSelectors()
    {
        var expressions = ExprLine().Matches(File.ReadAllText(Path.Combine(Folder, "alerts.yml"))).Select(m => m.Groups[1].Value).ToList();
        Assert.Equal(4, expressions.Count);
        return expressions.SelectMany(e => Selector().Matches(e).Select(m => m.Value)).Distinct().ToList();
    }

    /// <summary>The number of series an instant query returns.</summary>
    private static async Task<int> Query(HttpClient http, string promql)
    {
        var body = await http.GetStringAsync("/api/v1/query?query=" + Uri.EscapeDataString(promql));
        var data = JsonDocument.Parse(body).RootElement.GetProperty("data");
        return data.GetProperty("resultType").GetString() is "vector" or "matrix" ? data.GetProperty("result").GetArrayLength() : 1;
    }

    private static async Task WaitAsync(Func<Task<bool>> done, string what, Process prometheus, Task<string> prometheusLog, Func<string>? why = null)
    {
        var waited = Stopwatch.StartNew();
        while (true)
        {
            try
            {
                if (await done()) return;
            }
            catch (HttpRequestException) when (!prometheus.HasExited)
            {
                // Prometheus still starting.
            }
            if (prometheus.HasExited) Assert.Fail($"prometheus exited ({prometheus.ExitCode}): {await prometheusLog}");
            if (waited.Elapsed > DataDeadline) Assert.Fail($"waited {DataDeadline.TotalMinutes} min for {what}. {why?.Invoke()}");
            await Task.Delay(500);
        }
    }

    private static void Check(string file, params string[] args)
    {
        using var p = Process.Start(new ProcessStartInfo(file, args) { RedirectStandardOutput = true, RedirectStandardError = true })!;
        var output = p.StandardOutput.ReadToEndAsync();
        var error = p.StandardError.ReadToEndAsync();
        Assert.True(p.WaitForExit(60_000), $"{file} {string.Join(' ', args)} did not finish");
        Assert.True(p.ExitCode == 0, $"{file} {string.Join(' ', args)}: {output.Result}{error.Result}");
    }

    private static int FreePort()
    {
        using var listener = new TcpListener(IPAddress.Loopback, 0);
        listener.Start();
        return ((IPEndPoint)listener.LocalEndpoint).Port;
    }

    [GeneratedRegex(@"^\s*expr:\s*(.+)$", RegexOptions.Multiline)]
    private static partial Regex ExprLine();

    // A metric name with its optional label matchers; `up` is Prometheus' own scrape health series.
    [GeneratedRegex(@"\b(?:generalist_[a-z0-9_]+|up)(?:\{[^}]*\})?")]
    private static partial Regex Selector();
}
