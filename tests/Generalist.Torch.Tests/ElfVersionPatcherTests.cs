using Generalist.Torch;

namespace Generalist.Torch.Tests;

public class ElfVersionPatcherTests
{
    private static string PackageLibTorchSharp()
    {
        var root = Environment.GetEnvironmentVariable("NUGET_PACKAGES") is { Length: > 0 } p
            ? p : Path.Combine(Environment.GetFolderPath(Environment.SpecialFolder.UserProfile), ".nuget", "packages");
        return Path.Combine(root, "torchsharp", "0.107.0", "runtimes", "linux-x64", "native", "libLibTorchSharp.so");
    }

    [Fact]
    public void Weakens_only_the_copy_and_only_that_flag()
    {
        var original = PackageLibTorchSharp();
        var before = File.ReadAllBytes(original);
        var dir = Directory.CreateTempSubdirectory("elfpatch");
        try
        {
            var copy = Path.Combine(dir.FullName, "libLibTorchSharp.so");
            Assert.True(ElfVersionPatcher.RequiresVersion(original, "GLIBCXX_3.4.32"));
            Assert.False(ElfVersionPatcher.IsWeak(original, "GLIBCXX_3.4.32"));

            ElfVersionPatcher.WriteWeakenedCopy(original, copy, "GLIBCXX_3.4.32");

            Assert.True(ElfVersionPatcher.IsWeak(copy, "GLIBCXX_3.4.32"));
            Assert.Equal(before, File.ReadAllBytes(original)); // source untouched
            var after = File.ReadAllBytes(copy);
            Assert.Equal(before.Length, after.Length);
            var changed = Enumerable.Range(0, before.Length).Where(i => before[i] != after[i]).ToList();
            Assert.Single(changed); // one byte of one 16-bit flags field
            Assert.Empty(Directory.GetFiles(dir.FullName, "*.tmp*"));
        }
        finally
        {
            dir.Delete(true);
        }
    }

    [Fact]
    public void Rejects_a_file_that_is_not_elf()
    {
        var path = Path.GetTempFileName();
        try
        {
            File.WriteAllText(path, new string('x', 200));
            var e = Assert.Throws<InvalidDataException>(() => ElfVersionPatcher.RequiresVersion(path, "GLIBCXX_3.4.32"));
            Assert.Contains("not an ELF file", e.Message);
        }
        finally
        {
            File.Delete(path);
        }
    }

    [Fact]
    public void The_patch_is_needed_exactly_when_the_host_lacks_the_version()
    {
        // Debian 12 stops at GLIBCXX_3.4.30; newer hosts have 3.4.32 and must load the original file.
        var hostHas = TorchRuntime.HostLibstdcxxHas("GLIBCXX_3.4.32");
        Assert.True(TorchRuntime.HostLibstdcxxHas("GLIBCXX_3.4.30") || !File.Exists("/usr/lib/x86_64-linux-gnu/libstdc++.so.6"));
        var report = TorchRuntime.EnsureLoaded();
        Assert.Equal(!hostHas, report.Patched);
        Assert.Equal(hostHas, report.HostHasGlibcxx332);
    }
}
