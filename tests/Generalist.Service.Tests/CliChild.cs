using System.Diagnostics;
using System.Text.RegularExpressions;

namespace Generalist.Service.Tests;

/// <summary>Runs the `generalist` CLI (generalist.dll beside the tests) in a child process.</summary>
internal static class Cli
{
    public static Process Start(params string[] args) => Start(null, args);

    public static Process Start(IDictionary<string, string?>? environment, params string[] args)
    {
        var psi = new ProcessStartInfo("dotnet", [Path.Combine(AppContext.BaseDirectory, "generalist.dll"), .. args])
        {
            RedirectStandardOutput = true,
            RedirectStandardError = true,
        };
        psi.Environment["NO_COLOR"] = "1";
        psi.Environment.Remove("GENERALIST_API_KEY");
        psi.Environment.Remove("GENERALIST_SERVER");
        foreach (var (k, v) in environment ?? new Dictionary<string, string?>())
        {
            if (v is null) psi.Environment.Remove(k);
            else psi.Environment[k] = v;
        }
        return Process.Start(psi)!;
    }

    public static (int ExitCode, string Stdout, string Stderr) Run(IDictionary<string, string?>? environment, params string[] args)
    {
        using var p = Start(environment, args);
        var stdout = p.StandardOutput.ReadToEndAsync();
        var stderr = p.StandardError.ReadToEndAsync();
        if (!p.WaitForExit(120_000))
        {
            p.Kill(true);
            throw new TimeoutException($"generalist {string.Join(' ', args)} did not finish in 120 s");
        }
        return (p.ExitCode, stdout.Result, stderr.Result);
    }

    /// <summary>
    /// Reads a `generalist serve` child's first stdout line, which must be its "listening" line
    /// (bounded: 60 s), and returns the gRPC and metrics addresses it printed.
    /// </summary>
    public static async Task<(string Grpc, string Metrics)> WaitUntilListeningAsync(Process serve)
    {
        using var timeout = new CancellationTokenSource(TimeSpan.FromSeconds(60));
        var line = await serve.StandardOutput.ReadLineAsync(timeout.Token) ?? throw new InvalidOperationException("serve exited: " + await serve.StandardError.ReadToEndAsync());
        Assert.StartsWith("generalist service listening", line);
        var m = Regex.Match(line, @"grpc=(\S+) metrics=(\S+)");
        Assert.True(m.Success, line);
        return (m.Groups[1].Value, m.Groups[2].Value);
    }
}
