using System.Net;
using System.Net.Http.Headers;
using System.Text;
using Generalist.Service.Api.V1;
using Generalist.Service.Page;
using Generalist.Training;
using Microsoft.Extensions.DependencyInjection;
using Generalist.RunFormat;

namespace Generalist.Service.Tests;

public class RunPageTests
{
    private const string ApiKey = "run-page-key-0123456789";

    private static CreateRunRequest Curved(string name, int steps) => new()
    {
        ConfigJson = new RunConfig { Name = name, Steps = steps, Tasks = [new("cartpole"), new("text")], Checkpoint = new CheckpointConfig { Every = 0 } }.ToJson(),
    };

    [Fact]
    public async Task The_run_page_draws_per_task_curves_and_refreshes_while_the_run_trains_then_shows_its_newest_evaluation()
    {
        var trainer = new CurveTrainer { Gate = new SemaphoreSlim(0) };
        await using var svc = await TestService.StartAsync(configure: s => s.AddSingleton<ITrainer>(trainer));
        await svc.Runs().CreateRunAsync(Curved("paged", steps: 6));
        trainer.Gate.Release(4);
        await svc.WaitForAsync("paged", r => r.Step >= 4);
        using var http = svc.Server.CreateClient();

        var list = await http.GetStringAsync("/runs");
        Assert.Contains("<tr data-run=\"paged\">", list);
        Assert.Contains("href=\"/runs/paged\"", list);
        Assert.Contains($"http-equiv=\"refresh\" content=\"{RunPages.RefreshSeconds}\"", list);

        var response = await http.GetAsync("/runs/paged");
        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        Assert.Equal("text/html", response.Content.Headers.ContentType!.MediaType);
        Assert.Contains("default-src 'none'", response.Headers.GetValues("Content-Security-Policy").Single());
        var page = await response.Content.ReadAsStringAsync();
        Assert.Contains("<span id=\"state\" class=\"state running\">running</span>", page);
        Assert.Contains("http-equiv=\"refresh\"", page);
        Assert.DoesNotContain("<script", page);
        foreach (var task in new[] { "all", "cartpole", "text" })
            Assert.Contains($"<polyline data-series=\"{task}\"", Chart(page, "train-loss"));
        Assert.Contains("<polyline data-series=\"cartpole\"", Chart(page, "held-out-loss"));
        Assert.Contains("<polyline data-series=\"tokens/s\"", Chart(page, "throughput"));
        // Four steps, four points on each training curve.
        Assert.Equal(4, Points(Chart(page, "train-loss"), "cartpole"));
        Assert.Equal(2, Points(Chart(page, "held-out-loss"), "cartpole"));

        trainer.Gate.Release(2);
        await svc.WaitForStateAsync("paged", JobState.Succeeded);
        await svc.Evaluations().CreateEvaluationAsync(new CreateEvaluationRequest { Run = "paged", Name = "paged-eval", Suite = "control" });
        var deadline = DateTime.UtcNow.AddSeconds(20);
        while ((await svc.Evaluations().GetEvaluationAsync(new GetEvaluationRequest { Name = "paged-eval" })).State != JobState.Succeeded)
        {
            Assert.True(DateTime.UtcNow < deadline, "the evaluation did not succeed within 20 s");
            await Task.Delay(10);
        }
        // The evaluation's plots beside its result are inlined as images.
        var plots = Directory.CreateDirectory(Path.Combine(svc.DataRoot, "runs", "paged", "checkpoints", "step-6", "evaluation-plots")).FullName;
        await File.WriteAllTextAsync(Path.Combine(plots, "control_scores.svg"), "<svg xmlns=\"http://www.w3.org/2000/svg\" width=\"10\" height=\"10\"/>");

        page = await http.GetStringAsync("/runs/paged");
        Assert.Contains("class=\"state succeeded\"", page);
        Assert.DoesNotContain("http-equiv=\"refresh\"", page);
        Assert.Equal(6, Points(Chart(page, "train-loss"), "cartpole"));
        Assert.Contains("<tr data-task=\"cartpole\"><td>cartpole</td><td>control</td><td>62.5</td>", page);
        Assert.Contains("<img class=\"plot\" alt=\"control_scores\" src=\"data:image/svg+xml;base64,", page);
    }

    [Fact]
    public async Task With_an_API_key_the_page_needs_it_as_bearer_or_basic_password_and_metrics_stay_open()
    {
        await using var svc = await TestService.StartAsync(new() { ["Service:ApiKey"] = ApiKey });
        using var http = svc.Server.CreateClient();

        var refused = await http.GetAsync("/runs");
        Assert.Equal(HttpStatusCode.Unauthorized, refused.StatusCode);
        Assert.Equal("Basic", refused.Headers.WwwAuthenticate.Single().Scheme);
        Assert.Contains("API key needed", await refused.Content.ReadAsStringAsync());
        Assert.Equal(HttpStatusCode.Unauthorized, (await Get(http, "/runs/anything", new AuthenticationHeaderValue("Bearer", "wrong-key-0123456789"))).StatusCode);
        Assert.Equal(HttpStatusCode.Unauthorized, (await Get(http, "/runs", Basic("someone", "wrong"))).StatusCode);

        Assert.Equal(HttpStatusCode.OK, (await Get(http, "/runs", new AuthenticationHeaderValue("Bearer", ApiKey))).StatusCode);
        Assert.Equal(HttpStatusCode.OK, (await Get(http, "/runs", Basic("anyone", ApiKey))).StatusCode);
        Assert.Equal(HttpStatusCode.NotFound, (await Get(http, "/runs/nope", Basic("anyone", ApiKey))).StatusCode);
        Assert.Equal(HttpStatusCode.OK, (await http.GetAsync("/metrics")).StatusCode);
    }

    [Fact]
    public async Task An_unknown_run_is_404_and_a_name_is_HTML_encoded()
    {
        await using var svc = await TestService.StartAsync();
        using var http = svc.Server.CreateClient();
        var response = await http.GetAsync("/runs/%3Cb%3Ex");
        Assert.Equal(HttpStatusCode.NotFound, response.StatusCode);
        var page = await response.Content.ReadAsStringAsync();
        Assert.Contains("&lt;b&gt;x", page);
        Assert.DoesNotContain("<b>x", page);
        Assert.Contains("No runs yet", await http.GetStringAsync("/runs"));
    }

    /// <summary>The SVG element of one chart.</summary>
    internal static string Chart(string page, string id)
    {
        var start = page.IndexOf($"<svg xmlns=\"http://www.w3.org/2000/svg\" id=\"{id}\"", StringComparison.Ordinal);
        Assert.True(start >= 0, $"no chart {id} in the page");
        return page[start..(page.IndexOf("</svg>", start, StringComparison.Ordinal) + "</svg>".Length)];
    }

    private static int Points(string svg, string series)
    {
        var marker = $"data-series=\"{series}\"";
        var at = svg.IndexOf(marker, StringComparison.Ordinal);
        var points = svg.IndexOf("points=\"", at, StringComparison.Ordinal) + "points=\"".Length;
        return svg[points..svg.IndexOf('"', points)].Split(' ', StringSplitOptions.RemoveEmptyEntries).Length;
    }

    private static AuthenticationHeaderValue Basic(string user, string password) =>
        new("Basic", Convert.ToBase64String(Encoding.UTF8.GetBytes($"{user}:{password}")));

    private static Task<HttpResponseMessage> Get(HttpClient http, string path, AuthenticationHeaderValue auth)
    {
        var request = new HttpRequestMessage(HttpMethod.Get, path);
        request.Headers.Authorization = auth;
        return http.SendAsync(request);
    }
}
