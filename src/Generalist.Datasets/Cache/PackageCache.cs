using System.Diagnostics;
using System.Formats.Tar;
using System.IO.Compression;
using System.Security.Cryptography;

namespace Generalist.Datasets.Cache;

/// <summary>
/// The on-disk cache of registry packages under GENERALIST_DATA (default ~/.cache/generalist/data).
/// Layout: `archives/{npm|deb}/FILE` (the downloaded archive), `packages/{npm|deb}/NAME@VERSION/`
/// (its unpacked tree, with a `.unpacked` listing of every file and size), `manifest.json` (the
/// SHA-256 of every archive, recorded on first fetch). Every <see cref="Ensure"/> re-hashes the
/// archive and re-checks the unpacked listing: a missing or corrupted file is re-fetched or
/// re-unpacked; an archive whose re-fetched hash differs from the manifest is refused.
/// Idempotent and safe to run from two processes (a lock file serialises them).
/// </summary>
public sealed class PackageCache
{
    private const string UnpackedMarker = ".unpacked";
    private readonly IPackageFetcher _fetcher;
    private readonly PackageManifest _manifest;

    public PackageCache(string root, IPackageFetcher? fetcher = null)
    {
        Root = Path.GetFullPath(root);
        _fetcher = fetcher ?? new RegistryFetcher();
        _manifest = new PackageManifest(Path.Combine(Root, "manifest.json"));
    }

    public string Root { get; }

    /// <summary>GENERALIST_DATA when set, else $XDG_CACHE_HOME/generalist/data, else ~/.cache/generalist/data.</summary>
    public static string DefaultRoot()
    {
        var env = Environment.GetEnvironmentVariable("GENERALIST_DATA");
        if (!string.IsNullOrWhiteSpace(env)) return Path.GetFullPath(env);
        var xdg = Environment.GetEnvironmentVariable("XDG_CACHE_HOME");
        var cache = !string.IsNullOrWhiteSpace(xdg) ? xdg : Path.Combine(Environment.GetFolderPath(Environment.SpecialFolder.UserProfile), ".cache");
        return Path.Combine(cache, "generalist", "data");
    }

    /// <summary>What the last <see cref="Ensure"/> had to do; for reports and tests.</summary>
    public enum Outcome { Cached, Fetched, Refetched, Unpacked }

    /// <summary>Makes sure the package is downloaded, verified and unpacked; returns the unpacked directory.</summary>
    public string Ensure(PackageRef package, Action<string>? log = null) => Ensure(package, out _, log);

    public string Ensure(PackageRef package, out Outcome outcome, Action<string>? log = null)
    {
        Directory.CreateDirectory(Root);
        using var _ = AcquireLock();
        var kindDir = package.Kind == PackageKind.Npm ? "npm" : "deb";
        var archiveDir = Path.Combine(Root, "archives", kindDir);
        var unpackDir = Path.Combine(Root, "packages", kindDir, package.SafeName);

        var archive = EnsureArchive(package, archiveDir, out outcome, log);
        var sha = _manifest.Get(package.Key)!.Sha256;
        if (!UnpackedIntact(unpackDir, sha))
        {
            log?.Invoke($"unpacking {package.Key}");
            Unpack(package, archive, unpackDir, sha);
            if (outcome == Outcome.Cached) outcome = Outcome.Unpacked;
        }
        return unpackDir;
    }

    private string EnsureArchive(PackageRef package, string archiveDir, out Outcome outcome, Action<string>? log)
    {
        var entry = _manifest.Get(package.Key);
        if (entry is not null)
        {
            var path = Path.Combine(Root, entry.Archive);
            if (File.Exists(path) && HashFile(path) == entry.Sha256)
            {
                outcome = Outcome.Cached;
                return path;
            }
            log?.Invoke(File.Exists(path)
                ? $"{package.Key}: {entry.Archive} does not match its recorded SHA-256; fetching it again"
                : $"{package.Key}: {entry.Archive} is missing; fetching it again");
            if (File.Exists(path)) File.Delete(path);
        }
        else log?.Invoke($"fetching {package.Key}");

        // Download into a private staging directory, then move into place: a crash leaves no half file.
        var staging = Path.Combine(Root, "staging", Guid.NewGuid().ToString("N"));
        Directory.CreateDirectory(staging);
        try
        {
            var downloaded = _fetcher.Fetch(package, staging);
            var sha = HashFile(downloaded);
            if (entry is not null && sha != entry.Sha256)
                throw new PackageUnavailableException(
                    $"{package.Key}: the fetched archive has SHA-256 {sha}, but {_manifest.Path} recorded {entry.Sha256}; " +
                    $"the registry content changed or the download is damaged. Delete its entry from the manifest to accept the new file.");
            if (entry is null && package.Sha256 is { } pinned && sha != pinned)
                throw new PackageUnavailableException(
                    $"{package.Key}: the fetched archive has SHA-256 {sha}, but the pinned SHA-256 is {pinned}; the download is damaged or the registry serves different content.");
            Directory.CreateDirectory(archiveDir);
            var final = Path.Combine(archiveDir, Path.GetFileName(downloaded));
            File.Move(downloaded, final, overwrite: true);
            _manifest.Set(package.Key, new PackageManifest.Entry(Path.GetRelativePath(Root, final), sha, new FileInfo(final).Length, DateTime.UtcNow));
            outcome = entry is null ? Outcome.Fetched : Outcome.Refetched;
            return final;
        }
        finally
        {
            Directory.Delete(staging, recursive: true);
        }
    }

    /// <summary>The unpacked tree matches the archive hash and every listed file still has its size.</summary>
    private static bool UnpackedIntact(string unpackDir, string sha)
    {
        var marker = Path.Combine(unpackDir, UnpackedMarker);
        if (!File.Exists(marker)) return false;
        var lines = File.ReadAllLines(marker);
        if (lines.Length == 0 || lines[0] != sha) return false;
        foreach (var line in lines.Skip(1))
        {
            var tab = line.LastIndexOf('\t');
            var file = Path.Combine(unpackDir, line[..tab]);
            if (!File.Exists(file) || new FileInfo(file).Length != long.Parse(line[(tab + 1)..])) return false;
        }
        return true;
    }

    private void Unpack(PackageRef package, string archive, string unpackDir, string sha)
    {
        var temp = unpackDir + ".tmp-" + Guid.NewGuid().ToString("N");
        Directory.CreateDirectory(temp);
        try
        {
            if (package.Kind == PackageKind.Npm)
            {
                using var file = File.OpenRead(archive);
                using var gzip = new GZipStream(file, CompressionMode.Decompress);
                TarFile.ExtractToDirectory(gzip, temp, overwriteFiles: true);
            }
            else RunDpkgDeb(package, archive, temp);

            var listing = Directory.EnumerateFiles(temp, "*", SearchOption.AllDirectories)
                .Select(f => $"{Path.GetRelativePath(temp, f)}\t{new FileInfo(f).Length}")
                .Order(StringComparer.Ordinal)
                .ToList(); // materialised before the marker itself exists
            File.WriteAllLines(Path.Combine(temp, UnpackedMarker), new[] { sha }.Concat(listing));
            if (Directory.Exists(unpackDir)) Directory.Delete(unpackDir, recursive: true);
            Directory.Move(temp, unpackDir);
        }
        catch (Exception e) when (e is InvalidDataException or IOException)
        {
            throw new PackageUnavailableException($"{package.Key}: could not unpack {archive} ({e.Message}); delete it and run `generalist data prepare` again", e);
        }
        finally
        {
            if (Directory.Exists(temp)) Directory.Delete(temp, recursive: true);
        }
    }

    private static void RunDpkgDeb(PackageRef package, string archive, string destination)
    {
        var info = new ProcessStartInfo("dpkg-deb") { RedirectStandardError = true, RedirectStandardOutput = true, UseShellExecute = false };
        info.ArgumentList.Add("-x");
        info.ArgumentList.Add(archive);
        info.ArgumentList.Add(destination);
        try
        {
            using var process = Process.Start(info)!;
            var stderr = process.StandardError.ReadToEnd();
            process.WaitForExit();
            if (process.ExitCode != 0)
                throw new PackageUnavailableException($"{package.Key}: dpkg-deb -x {archive} failed: {stderr.Trim()}");
        }
        catch (System.ComponentModel.Win32Exception e)
        {
            throw new PackageUnavailableException($"{package.Key}: dpkg-deb is not installed ({e.Message}); run by hand: dpkg-deb -x {archive} {destination}", e);
        }
    }

    public static string HashFile(string path)
    {
        using var stream = File.OpenRead(path);
        return Convert.ToHexStringLower(SHA256.HashData(stream));
    }

    /// <summary>An exclusive lock file; waits (bounded) while another process is filling the cache.</summary>
    private FileStream AcquireLock()
    {
        var path = Path.Combine(Root, ".lock");
        var deadline = DateTime.UtcNow + TimeSpan.FromMinutes(15);
        while (true)
        {
            try
            {
                return new FileStream(path, FileMode.OpenOrCreate, FileAccess.ReadWrite, FileShare.None);
            }
            catch (IOException) when (DateTime.UtcNow < deadline)
            {
                Thread.Sleep(200);
            }
        }
    }
}
