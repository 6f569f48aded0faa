using System.Diagnostics;

namespace Generalist.Cli.Tests;

/// <summary>Runs the `generalist` CLI in a fresh process, as a user would.</summary>
internal static class CliProcess
{
    public static (int ExitCode, string Stdout, string Stderr) Run(IDictionary<string, string?>? environment, params string[] args)
    {
        var dll = Path.Combine(AppContext.BaseDirectory, "generalist.dll");
        var psi = new ProcessStartInfo("dotnet", [dll, .. args])
        {
            RedirectStandardOutput = true,
            RedirectStandardError = true,
        };
        psi.Environment["NO_COLOR"] = "1";
        foreach (var (k, v) in environment ?? new Dictionary<string, string?>())
        {
            if (v is null) psi.Environment.Remove(k);
            else psi.Environment[k] = v;
        }
        using var p = Process.Start(psi)!;
        var stdout = p.StandardOutput.ReadToEndAsync();
        var stderr = p.StandardError.ReadToEndAsync();
        if (!p.WaitForExit(300_000))
        {
            p.Kill(true);
            throw new TimeoutException($"generalist {string.Join(' ', args)} did not finish in 300 s");
        }
        return (p.ExitCode, stdout.Result, stderr.Result);
    }
}
