using System.Diagnostics;
using System.Text.Json;

namespace Generalist.Training.Tests;

/// <summary>Issue 10 item 3 end to end: SIGTERM to a real `generalist train` process.</summary>
public class SigtermProcessTests
{
    private static string CliDll()
    {
        var dir = new DirectoryInfo(AppContext.BaseDirectory);
        while (dir is not null && !File.Exists(Path.Combine(dir.FullName, "Generalist.sln"))) dir = dir.Parent;
        Assert.True(dir is not null, "repository root (Generalist.sln) not found above the test binaries");
        var config = AppContext.BaseDirectory.Contains("/Release/") ? "Release" : "Debug";
        var dll = Path.Combine(dir!.FullName, "src", "Generalist.Cli", "bin", config, "net10.0", "generalist.dll");
        Assert.True(File.Exists(dll), $"{dll} is missing: build src/Generalist.Cli first");
        return dll;
    }

    private static Process Start(string dll, params string[] args)
    {
        var psi = new ProcessStartInfo("dotnet", [dll, .. args]) { RedirectStandardOutput = true, RedirectStandardError = true };
        psi.Environment["NO_COLOR"] = "1";
        return Process.Start(psi)!;
    }

    [Fact]
    [Trait("Category", "Slow")]
    public async Task Sigterm_checkpoints_at_the_next_step_exits_cleanly_and_the_run_resumes()
    {
        using var dir = new TempDir();
        var dll = CliDll();
        string[] args = ["train", "--preset", "tiny", "--tasks", "icl-regression", "--steps", "100000", "--batch-size", "2", "--out", dir.Path, "--json"];
        using var p = Start(dll, args);
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
        Assert.True(p.WaitForExit(60_000), "no exit within the 60 s grace period");
        var grace = signalled.Elapsed;
        Assert.Equal(0, p.ExitCode);
        using var result = JsonDocument.Parse(await stdout);
        Assert.Equal("cancelled", result.RootElement.GetProperty("outcome").GetString());
        var finalStep = result.RootElement.GetProperty("final_step").GetInt64();
        Assert.True(Directory.Exists(Path.Combine(dir.Path, "checkpoints", $"step-{finalStep}")), $"no checkpoint for step {finalStep}; grace {grace}");
        Assert.Empty(Directory.GetDirectories(Path.Combine(dir.Path, "checkpoints"), ".tmp-*"));

        using var resumed = Start(dll, ["train", "--preset", "tiny", "--tasks", "icl-regression", "--steps", (finalStep + 1).ToString(), "--batch-size", "2", "--out", dir.Path, "--resume", "--json"]);
        var resumedOut = resumed.StandardOutput.ReadToEndAsync();
        var resumedErr = resumed.StandardError.ReadToEndAsync();
        Assert.True(resumed.WaitForExit(240_000));
        var err = await resumedErr;
        Assert.True(resumed.ExitCode == 0, err);
        Assert.Contains($"at step {finalStep}", err);
        using var second = JsonDocument.Parse(await resumedOut);
        Assert.Equal(finalStep + 1, second.RootElement.GetProperty("final_step").GetInt64());
    }
}
