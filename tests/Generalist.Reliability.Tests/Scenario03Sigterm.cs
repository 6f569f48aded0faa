using System.Diagnostics;
using System.Text.Json;
using Generalist.Service.Tests;
using CliChild = Generalist.Service.Tests.Cli;
using Generalist.Training.Loop;
using Generalist.Training.Tests;
using Xunit.Abstractions;
using Generalist.TestSupport;

namespace Generalist.Reliability.Tests;

/// <summary>
/// Issue 10, scenario 3: SIGTERM to a real `generalist train` process: a checkpoint at the next
/// step boundary, a clean exit (0, outcome "cancelled") within the grace period, and an exact resume
/// from that checkpoint.
/// </summary>
public class Scenario03Sigterm(ITestOutputHelper output)
{
    private static readonly TimeSpan Grace = TimeSpan.FromSeconds(60);

    [Fact]
    [Trait("Category", "Slow")]
    public async Task Sigterm_checkpoints_at_the_next_step_exits_cleanly_and_the_run_resumes()
    {
        var figures = new Figures(output, "3");
        using var dir = new TempDir();
        string[] args = ["train", "--preset", "tiny", "--tasks", "icl-regression", "--steps", "100000", "--batch-size", "2", "--out", dir.Path, "--json"];
        using var p = CliChild.Start(args);
        var stdout = p.StandardOutput.ReadToEndAsync();
        var stderr = new List<string>();
        p.ErrorDataReceived += (_, e) => { if (e.Data is null) return; lock (stderr) stderr.Add(e.Data); };
        p.BeginErrorReadLine();
        var metrics = Path.Combine(dir.Path, "metrics.jsonl");
        var clock = Stopwatch.StartNew();
        while (clock.Elapsed < TimeSpan.FromSeconds(240) && !(File.Exists(metrics) && new FileInfo(metrics).Length > 0) && !p.HasExited) Thread.Sleep(200);
        Assert.False(p.HasExited, "training exited before it was signalled: " + string.Join("\n", stderr));
        Assert.True(File.Exists(metrics), "no step completed within 240 s");

        var signalled = Stopwatch.StartNew();
        Process.Start("kill", ["-TERM", p.Id.ToString()])!.WaitForExit();
        Assert.True(p.WaitForExit((int)Grace.TotalMilliseconds), $"no exit within the {Grace.TotalSeconds} s grace period");
        var exit = signalled.Elapsed;
        figures.Add("SIGTERM to clean exit (checkpoint written)", exit.TotalSeconds, "s", $"grace period {Grace.TotalSeconds} s");
        Assert.Equal(0, p.ExitCode);
        using var result = JsonDocument.Parse(await stdout);
        Assert.Equal("cancelled", result.RootElement.GetProperty("outcome").GetString());
        var finalStep = result.RootElement.GetProperty("final_step").GetInt64();
        Assert.True(Directory.Exists(Path.Combine(dir.Path, "checkpoints", $"step-{finalStep}")), $"no checkpoint for step {finalStep}");
        Assert.Empty(Directory.GetDirectories(Path.Combine(dir.Path, "checkpoints"), ".tmp-*"));

        var resumed = CliChild.Run(null, ["train", "--preset", "tiny", "--tasks", "icl-regression", "--steps", (finalStep + 1).ToString(), "--batch-size", "2", "--out", dir.Path, "--resume", "--json"]);
        Assert.True(resumed.ExitCode == 0, resumed.Stderr);
        Assert.Contains($"at step {finalStep}", resumed.Stderr);
        using var second = JsonDocument.Parse(resumed.Stdout);
        Assert.Equal(finalStep + 1, second.RootElement.GetProperty("final_step").GetInt64());

        // Exact: the same steps run straight through give the same losses, bit for bit.
        using var straight = new TempDir();
        var reference = CliChild.Run(null, ["train", "--preset", "tiny", "--tasks", "icl-regression", "--steps", (finalStep + 1).ToString(), "--batch-size", "2", "--out", straight.Path, "--json"]);
        Assert.True(reference.ExitCode == 0, reference.Stderr);
        Assert.Equal(MetricsLog.Read(Path.Combine(straight.Path, "metrics.jsonl")).Select(l => (l.Step, l.Loss)),
            MetricsLog.Read(metrics).Select(l => (l.Step, l.Loss)));
    }
}
