using System.Globalization;
using System.Net;
using System.Text;
using System.Text.Json;
using Generalist.Service.Jobs;
using Generalist.Service.Kernel;
using Generalist.Service.Registry;
using Generalist.Service.Security;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Http;
using Microsoft.AspNetCore.Routing;
using Microsoft.Extensions.Options;

namespace Generalist.Service.Page;

/// <summary>
/// The live run page, on the service's HTTP port beside /metrics: `/runs` lists the runs with
/// their states, `/runs/NAME` shows one run's per-task training and held-out loss curves, its
/// throughput, and its newest evaluation's scores and plots. Plain HTML and inline SVG, no script;
/// while something is queued or training the page reloads itself every <see cref="RefreshSeconds"/>.
/// With an API key configured, the page needs it (<see cref="PageAccess"/>); /metrics does not.
/// </summary>
public static class RunPages
{
    /// <summary>A step of a small model takes milliseconds; a person reads a curve every few seconds.</summary>
    public const int RefreshSeconds = 5;
    /// <summary>Runs listed, newest first.</summary>
    public const int ListedRuns = 200;
    /// <summary>Evaluation plots inlined per run, and the largest file inlined.</summary>
    private const int MaxPlots = 6;
    private const long MaxPlotBytes = 1 << 20;
    // No script may run and nothing is fetched: styles inline, images as data: URIs.
    private const string Policy = "default-src 'none'; img-src data:; style-src 'unsafe-inline'";

    public static void MapRunPages(this IEndpointRouteBuilder app)
    {
        app.MapGet("/", () => Results.Redirect("/runs"));
        app.MapGet("/runs", (HttpContext http, IOptions<ServiceOptions> options, RunRegistry registry, RunManager runs) =>
            Page(http, new PageAccess(options.Value.ApiKey), () => ListPage(registry, runs)));
        app.MapGet("/runs/{name}", (string name, HttpContext http, IOptions<ServiceOptions> options, RunRegistry registry, RunManager runs, DataLayout layout) =>
            Page(http, new PageAccess(options.Value.ApiKey), () => RunPage(name, registry, runs, layout)));
    }

    private static IResult Page(HttpContext http, PageAccess access, Func<(int Status, string Html)> render)
    {
        http.Response.Headers.ContentSecurityPolicy = Policy;
        http.Response.Headers.CacheControl = "no-store";
        if (!access.Allows(http.Request))
        {
            http.Response.Headers.WWWAuthenticate = $"Basic realm=\"{PageAccess.Realm}\", charset=\"UTF-8\"";
            return Results.Content(Document("API key needed", false,
                "<h1>API key needed</h1><p>This service has an API key. Sign in with any user name and the key as password, " +
                "or send <code>Authorization: Bearer KEY</code>.</p>"), "text/html; charset=utf-8", Encoding.UTF8, StatusCodes.Status401Unauthorized);
        }
        var (status, html) = render();
        return Results.Content(html, "text/html; charset=utf-8", Encoding.UTF8, status);
    }

    private static (int, string) ListPage(RunRegistry registry, RunManager runs)
    {
        var all = registry.ListRuns(0, int.MaxValue, null, null);
        var listed = all.Reverse().Take(ListedRuns).Select(runs.WithLiveProgress).ToList();
        var body = new StringBuilder("<h1>Generalist runs</h1>");
        if (listed.Count == 0) body.Append("<p>No runs yet: <code>generalist runs create --name NAME</code>.</p>");
        else
        {
            body.Append("<table id=\"runs\"><tr><th>run</th><th>state</th><th>step</th><th>loss</th><th>tokens/s</th><th>updated (UTC)</th></tr>");
            foreach (var r in listed)
                body.Append(CultureInfo.InvariantCulture,
                    $"<tr data-run=\"{E(r.Name)}\"><td><a href=\"/runs/{Uri.EscapeDataString(r.Name)}\">{E(r.Name)}</a></td><td class=\"state {State(r.State)}\">{State(r.State)}</td>" +
                    $"<td>{r.Step} / {r.TotalSteps}</td><td>{Number(r.Loss)}</td><td>{Number(r.TokensPerSecond)}</td><td>{Time(r.UpdateTime)}</td></tr>");
            body.Append("</table>");
            if (all.Count > ListedRuns) body.Append(CultureInfo.InvariantCulture, $"<p>The newest {ListedRuns} of {all.Count} runs; <code>generalist runs list --all</code> lists every one.</p>");
        }
        return (StatusCodes.Status200OK, Document("Generalist runs", listed.Any(r => Active(r.State)), body.ToString()));
    }

    private static (int, string) RunPage(string name, RunRegistry registry, RunManager runs, DataLayout layout)
    {
        if (registry.GetRun(name) is not { } stored)
            return (StatusCodes.Status404NotFound, Document("run not found", false, $"<h1>No run named {E(name)}</h1><p><a href=\"/runs\">all runs</a></p>"));
        var run = runs.WithLiveProgress(stored);
        // The registry validated the name when the run was created, so it is a safe directory name.
        var history = RunHistory.Read(Path.Combine(layout.RunDirectory(run.Name), "metrics.jsonl"));
        var body = new StringBuilder("<p><a href=\"/runs\">all runs</a></p>");
        body.Append(CultureInfo.InvariantCulture, $"<h1>run {E(run.Name)}</h1><table id=\"facts\">");
        Fact(body, "state", $"<span id=\"state\" class=\"state {State(run.State)}\">{State(run.State)}</span>" + (run.FailureReason is { } why ? $" ({E(why)})" : ""));
        Fact(body, "step", $"{run.Step} / {run.TotalSteps}");
        Fact(body, "loss", Number(run.Loss));
        Fact(body, "tokens/s", Number(run.TokensPerSecond));
        Fact(body, "tokens seen", run.TokensSeen.ToString(CultureInfo.InvariantCulture));
        Fact(body, "newest checkpoint", run.LastCheckpoint is { } c ? $"<code>{E(c)}</code>" : "none yet");
        body.Append("</table><section id=\"curves\">");
        body.Append(SvgChart.Line("train-loss", "Training loss per task", "step", "loss (nats)", history.TrainLoss));
        body.Append(SvgChart.Line("held-out-loss", "Held-out loss per task", "step", "loss (nats)", history.HeldOutLoss));
        body.Append(SvgChart.Line("throughput", "Throughput", "step", "tokens/s", history.Throughput));
        body.Append("</section>");
        Evaluation(body, registry.NewestSucceededEvaluationUnder($"runs/{run.Name}/"), layout);
        return (StatusCodes.Status200OK, Document($"run {run.Name}", Active(run.State), body.ToString()));
    }

    private static void Evaluation(StringBuilder body, EvaluationRecord? record, DataLayout layout)
    {
        body.Append("<section id=\"evaluation\"><h2>Newest evaluation</h2>");
        if (record?.ResultJson is not { } json)
        {
            body.Append("<p>None yet through this service: <code>Evaluations.CreateEvaluation</code> with this run evaluates its newest checkpoint.</p></section>");
            return;
        }
        var result = JsonSerializer.Deserialize<Generalist.Evaluation.EvaluationResult>(json, StoredJson.Options)!;
        body.Append(CultureInfo.InvariantCulture, $"<p><code>{E(record.Checkpoint)}</code>, suite {E(record.Suite)}, mean normalized score {Number(result.MeanNormalizedScore)}</p>");
        body.Append("<table id=\"scores\"><tr><th>task</th><th>family</th><th>normalized score</th><th>metrics</th></tr>");
        foreach (var t in result.Tasks)
        {
            var metrics = string.Join(", ", t.Metrics.OrderBy(m => m.Key, StringComparer.Ordinal).Select(m => $"{E(m.Key)} {Number(m.Value)}"));
            body.Append(CultureInfo.InvariantCulture, $"<tr data-task=\"{E(t.Task)}\"><td>{E(t.Task)}</td><td>{E(t.Family)}</td><td>{Number(t.NormalizedScore)}</td><td>{metrics}</td></tr>");
        }
        body.Append("</table>");
        // The evaluation's own plots (ScottPlot SVGs beside evaluation.json), inlined as images.
        var plots = Path.Combine(layout.ToAbsolute(record.Checkpoint), "evaluation-plots");
        if (Directory.Exists(plots) && SafePaths.IsUnder(layout.Root, Path.GetFullPath(plots)))
            foreach (var svg in Directory.GetFiles(plots, "*.svg").Order(StringComparer.Ordinal).Take(MaxPlots))
                if (new FileInfo(svg).Length <= MaxPlotBytes)
                    body.Append(CultureInfo.InvariantCulture,
                        $"<img class=\"plot\" alt=\"{E(Path.GetFileNameWithoutExtension(svg))}\" src=\"data:image/svg+xml;base64,{Convert.ToBase64String(File.ReadAllBytes(svg))}\">");
        body.Append("</section>");
    }

    private static string Document(string title, bool refresh, string body) =>
        "<!doctype html><html lang=\"en\"><head><meta charset=\"utf-8\">" +
        (refresh ? $"<meta http-equiv=\"refresh\" content=\"{RefreshSeconds}\">" : "") +
        $"<title>{E(title)} · Generalist</title><style>" +
        "body{font-family:sans-serif;margin:1.5em;color:#222}table{border-collapse:collapse;margin:.5em 0}" +
        "th,td{border:1px solid #ccc;padding:.25em .6em;text-align:left}section svg,img.plot{margin:.5em 1em .5em 0;border:1px solid #ddd;max-width:100%}" +
        ".running,.queued,.cancelling{color:#1f6feb}.succeeded{color:#2ca02c}.failed{color:#d62728}.cancelled,.interrupted{color:#8c564b}" +
        $"</style></head><body>{body}</body></html>";

    private static void Fact(StringBuilder body, string name, string html) => body.Append(CultureInfo.InvariantCulture, $"<tr><th>{E(name)}</th><td>{html}</td></tr>");

    private static bool Active(JobState state) => state is JobState.Queued or JobState.Running or JobState.Cancelling;

    private static string State(JobState state) => JobStates.ToText(state);

    private static string Number(double? v) => v is { } x && double.IsFinite(x)
        ? x.ToString(Math.Abs(x) switch { >= 1e4 => "0", >= 100 => "0.#", _ => "0.####" }, CultureInfo.InvariantCulture)
        : "–";

    private static string Time(long unixMilliseconds) => DateTimeOffset.FromUnixTimeMilliseconds(unixMilliseconds).UtcDateTime.ToString("yyyy-MM-dd HH:mm:ss", CultureInfo.InvariantCulture);

    private static string E(string text) => WebUtility.HtmlEncode(text);
}
