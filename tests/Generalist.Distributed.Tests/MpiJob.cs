using System.Diagnostics;
using System.Text;
using System.Text.Json;

namespace Generalist.Distributed.Tests;

/// <summary>
/// Starts the harness (copied beside this assembly) as an Open MPI job and collects what each rank
/// wrote. mpirun comes from openmpi-bin, which .ci/run installs; without it these tests fail
/// with that instruction rather than pass quietly.
/// </summary>
internal sealed record MpiJobResult(int ExitCode, string Output, TimeSpan Elapsed, string OutputDirectory)
{
    public JsonElement Rank(int rank)
    {
        var path = Path.Combine(OutputDirectory, $"rank-{rank}.json");
        Assert.True(File.Exists(path), $"rank {rank} wrote no result (exit {ExitCode}). Output:\n{Output}");
        return JsonDocument.Parse(File.ReadAllText(path)).RootElement;
    }
}

internal static class MpiJob
{
    public static string Harness => Path.Combine(AppContext.BaseDirectory, "Generalist.Distributed.Harness.dll");

    /// <summary>ranks = 0 runs the harness as one plain process (no mpirun): a world of one.</summary>
    public static MpiJobResult Run(int ranks, string mode, TimeSpan limit, params string[] arguments)
    {
        var output = Path.Combine(Path.GetTempPath(), "generalist-mpi-" + Guid.NewGuid().ToString("N"));
        Directory.CreateDirectory(output);
        var start = new ProcessStartInfo { RedirectStandardOutput = true, RedirectStandardError = true, UseShellExecute = false };
        if (ranks > 0)
        {
            start.FileName = FindMpirun();
            foreach (var a in new[] { "--allow-run-as-root", "--oversubscribe", "-np", ranks.ToString(), "-x", "TERM=dumb" }) start.ArgumentList.Add(a);
            start.ArgumentList.Add("dotnet");
        }
        else start.FileName = "dotnet";
        start.ArgumentList.Add(Harness);
        start.ArgumentList.Add(mode);
        foreach (var a in arguments.Concat(["--out", output])) start.ArgumentList.Add(a);
        start.Environment["TERM"] = "dumb";

        var text = new StringBuilder();
        var watch = Stopwatch.StartNew();
        using var process = new Process { StartInfo = start };
        process.OutputDataReceived += (_, e) => { if (e.Data is not null) lock (text) text.AppendLine(e.Data); };
        process.ErrorDataReceived += (_, e) => { if (e.Data is not null) lock (text) text.AppendLine(e.Data); };
        process.Start();
        process.BeginOutputReadLine();
        process.BeginErrorReadLine();
        if (!process.WaitForExit(limit))
        {
            process.Kill(entireProcessTree: true);
            process.WaitForExit();
            Assert.Fail($"the job did not end within {limit.TotalSeconds:F0} s. Output:\n{text}");
        }
        process.WaitForExit(); // drains the redirected streams
        return new MpiJobResult(process.ExitCode, text.ToString(), watch.Elapsed, output);
    }

    private static string FindMpirun()
    {
        foreach (var dir in (Environment.GetEnvironmentVariable("PATH") ?? "").Split(':', StringSplitOptions.RemoveEmptyEntries))
        {
            var path = Path.Combine(dir, "mpirun");
            if (File.Exists(path)) return path;
        }
        Assert.Fail("mpirun not found on PATH: install Open MPI (apt-get install openmpi-bin libopenmpi-dev; .ci/run does this)");
        return "";
    }
}
