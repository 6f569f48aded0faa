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
        return Wait(psi, TimeSpan.FromSeconds(300), $"generalist {string.Join(' ', args)}");
    }

    /// <summary>Runs any program (bash, python3, git) with captured output, killed past <paramref name="timeout"/>.</summary>
    public static (int ExitCode, string Stdout, string Stderr) RunProgram(string file, string? directory, IDictionary<string, string>? environment, TimeSpan timeout, params string[] args)
    {
        var psi = new ProcessStartInfo(file, args) { RedirectStandardOutput = true, RedirectStandardError = true };
        if (directory is not null) psi.WorkingDirectory = directory;
        foreach (var (k, v) in environment ?? new Dictionary<string, string>()) psi.Environment[k] = v;
        return Wait(psi, timeout, $"{file} {string.Join(' ', args)}");
    }

    private static (int ExitCode, string Stdout, string Stderr) Wait(ProcessStartInfo psi, TimeSpan timeout, string what)
    {
        using var p = Process.Start(psi)!;
        var stdout = p.StandardOutput.ReadToEndAsync();
        var stderr = p.StandardError.ReadToEndAsync();
        if (!p.WaitForExit(timeout))
        {
            p.Kill(true);
            throw new TimeoutException($"{what} did not finish in {timeout.TotalSeconds:0} s");
        }
        return (p.ExitCode, stdout.Result, stderr.Result);
    }
}
