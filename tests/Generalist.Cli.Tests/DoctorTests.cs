using System.Text.Json;

namespace Generalist.Cli.Tests;

public class DoctorTests
{
    [Fact]
    public void Libtorch_loads_after_the_cache_is_deleted()
    {
        var cache = Directory.CreateTempSubdirectory("generalist-cache");
        try
        {
            cache.Delete(true); // the cache directory does not exist at all
            var env = new Dictionary<string, string?> { ["GENERALIST_CACHE"] = cache.FullName, ["GENERALIST_LIBTORCH"] = null };
            var (code, stdout, stderr) = CliProcess.Run(env, "doctor", "--json");
            Assert.True(code == 0, stderr);
            using var doc = JsonDocument.Parse(stdout);
            Assert.False(string.IsNullOrEmpty(doc.RootElement.GetProperty("lib_torch_version").GetString()));
            Assert.True(doc.RootElement.GetProperty("cpu_threads").GetInt32() >= 1);
            if (doc.RootElement.GetProperty("patched_copy").GetBoolean())
                Assert.StartsWith(cache.FullName, doc.RootElement.GetProperty("lib_torch_sharp_path").GetString());

            // A second run reuses the cached copy.
            var again = CliProcess.Run(env, "doctor", "--json");
            Assert.Equal(0, again.ExitCode);
        }
        finally
        {
            if (Directory.Exists(cache.FullName)) cache.Delete(true);
        }
    }

    [Fact]
    public void A_libtorch_directory_without_libtorch_gets_a_clear_error_and_exit_2()
    {
        var empty = Directory.CreateTempSubdirectory("no-libtorch");
        try
        {
            var env = new Dictionary<string, string?> { ["GENERALIST_LIBTORCH"] = empty.FullName };
            var (code, stdout, stderr) = CliProcess.Run(env, "doctor");
            Assert.Equal(2, code);
            Assert.Contains("GENERALIST_LIBTORCH", stderr);
            Assert.Contains("holds no libtorch.so", stderr);
            Assert.DoesNotContain("TypeInitializationException", stderr + stdout);
            Assert.DoesNotContain("   at ", stderr); // no stack trace
        }
        finally
        {
            empty.Delete(true);
        }
    }
}
