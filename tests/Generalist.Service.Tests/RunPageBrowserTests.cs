using System.Diagnostics;
using System.Net;
using System.Text.RegularExpressions;
using Generalist.Service.Api.V1;
using Grpc.Core;
using Grpc.Net.Client;
using SkiaSharp;

namespace Generalist.Service.Tests;

/// <summary>
/// The live run page in Debian's headless `chromium` (apt-get install chromium), against a real
/// `generalist serve` with an API key training a tiny run: with the key the page renders the
/// per-task curves (in the DOM, and in a screenshot with the curves' colors), without it the page is refused.
/// </summary>
[Collection(LiveTraining.Collection)]
public partial class RunPageBrowserTests
{
    private const string Chromium = "/usr/bin/chromium";
    private const string ApiKey = "browser-page-key-0123456789";
    // The chart palette's first two colors: the mixture ("all") and the first task (cartpole).
    private static readonly SKColor[] CurveColors = [SKColor.Parse("#1f77b4"), SKColor.Parse("#ff7f0e")];
    /// <summary>Pixels of a color that make a drawn curve: a 2-pixel line across a few hundred pixels is far more.</summary>
    private const int MinCurvePixels = 100;

    [Fact]
    [Trait("Category", "Slow")]
    public async Task Chromium_renders_the_curves_of_a_live_run_with_the_key_and_is_refused_without_it()
    {
        Assert.True(File.Exists(Chromium), "chromium not installed: apt-get install chromium (.ci/run does this)");
        var work = Directory.CreateTempSubdirectory("generalist-browser-").FullName;
        var root = Directory.CreateDirectory(Path.Combine(work, "data")).FullName;
        using var serve = Cli.Start("serve", "--data-root", root, "--port", "0", "--metrics-port", "0", "--api-key", ApiKey);
        try
        {
            _ = serve.StandardError.ReadToEndAsync();
            var (grpc, metrics) = await Cli.WaitUntilListeningAsync(serve);
            var site = new Uri(metrics).Authority;
            using var channel = GrpcChannel.ForAddress(grpc);
            var runs = new Runs.RunsClient(channel);
            var key = new Metadata { { "authorization", $"Bearer {ApiKey}" } };
            await runs.CreateRunAsync(new CreateRunRequest { ConfigJson = PrometheusTelemetryTests.TinyRun("browsed").ToJson() }, key);
            var waited = Stopwatch.StartNew();
            // Two held-out evaluations (every 5 steps) make a held-out line.
            while ((await runs.GetRunAsync(new GetRunRequest { Name = "browsed" }, key)).Step < 12)
            {
                Assert.True(waited.Elapsed < TimeSpan.FromMinutes(4), "the tiny run did not reach step 12 in 4 minutes");
                await Task.Delay(500);
            }

            var page = $"http://anyone:{ApiKey}@{site}/runs/browsed";
            var (dom, _) = Browse(work, "--dump-dom", page);
            Assert.Contains("id=\"train-loss\"", dom);
            Assert.Contains("class=\"state running\"", dom);
            Assert.Contains("http-equiv=\"refresh\"", dom);
            foreach (var chart in new[] { "train-loss", "held-out-loss" })
            {
                var svg = RunPageTests.Chart(dom, chart);
                var points = Regex.Match(svg, "data-series=\"cartpole\"[^>]*points=\"([^\"]*)\"").Groups[1].Value.Split(' ', StringSplitOptions.RemoveEmptyEntries);
                Assert.True(points.Length >= 2, $"{chart}: the cartpole curve has {points.Length} points:\n{svg}");
            }

            var screenshot = Path.Combine(work, "page.png");
            Browse(work, $"--screenshot={screenshot}", "--window-size=1280,1400", page);
            using (var image = SKBitmap.Decode(screenshot))
            {
                Assert.NotNull(image);
                foreach (var color in CurveColors)
                {
                    var count = Count(image, color);
                    Assert.True(count >= MinCurvePixels, $"the screenshot has {count} pixels of {color} (a curve needs {MinCurvePixels})");
                }
            }

            // Without the key: the service answers 401, and the browser shows nothing of the run.
            var (refused, log) = Browse(work, "--dump-dom", $"http://{site}/runs/browsed");
            Assert.DoesNotContain("train-loss", refused);
            Assert.True(refused.Contains("API key needed") || log.Contains("ERR_INVALID_AUTH_CREDENTIALS"), $"not refused:\n{refused}\n{log}");
            using var http = new HttpClient();
            Assert.Equal(HttpStatusCode.Unauthorized, (await http.GetAsync($"http://{site}/runs/browsed")).StatusCode);

            await runs.CancelRunAsync(new CancelRunRequest { Name = "browsed" }, key);
        }
        finally
        {
            if (!serve.HasExited)
            {
                Process.Start("kill", ["-TERM", serve.Id.ToString()]).WaitForExit();
                if (!serve.WaitForExit(30_000)) serve.Kill(true);
            }
            TestService.TryDelete(work);
        }
    }

    /// <summary>Runs headless chromium once (own profile, no sandbox: tests may run as root); returns stdout and stderr.</summary>
    private static (string Stdout, string Stderr) Browse(string work, params string[] args)
    {
        var profile = Directory.CreateDirectory(Path.Combine(work, "chromium-" + Guid.NewGuid().ToString("N"))).FullName;
        var psi = new ProcessStartInfo(Chromium, ["--headless", "--no-sandbox", "--disable-gpu", "--disable-dev-shm-usage", $"--user-data-dir={profile}", .. args])
        {
            RedirectStandardOutput = true,
            RedirectStandardError = true,
        };
        using var p = Process.Start(psi)!;
        var stdout = p.StandardOutput.ReadToEndAsync();
        var stderr = p.StandardError.ReadToEndAsync();
        if (!p.WaitForExit(120_000))
        {
            p.Kill(true);
            Assert.Fail($"chromium {string.Join(' ', args)} did not finish in 120 s");
        }
        return (stdout.Result, stderr.Result);
    }

    /// <summary>Pixels within a small distance of a color (anti-aliased edges are not counted).</summary>
    private static int Count(SKBitmap image, SKColor color)
    {
        var n = 0;
        for (var y = 0; y < image.Height; y++)
            for (var x = 0; x < image.Width; x++)
            {
                var p = image.GetPixel(x, y);
                if (Math.Abs(p.Red - color.Red) + Math.Abs(p.Green - color.Green) + Math.Abs(p.Blue - color.Blue) < 40) n++;
            }
        return n;
    }
}
