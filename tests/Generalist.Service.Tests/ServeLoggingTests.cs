using System.Diagnostics;
using System.Text.Json;

namespace Generalist.Service.Tests;

/// <summary>`generalist serve` is quiet: the listening line alone on stdout, logs on stderr, no line per RPC.</summary>
public class ServeLoggingTests
{
    private const string ApiKey = "quiet-service-key-0123456789";

    [Fact]
    public async Task serve_prints_only_the_listening_line_on_stdout_no_line_per_RPC_and_JSON_logs_on_stderr_when_asked()
    {
        var root = Directory.CreateTempSubdirectory("generalist-serve-logs-").FullName;
        using var serve = Cli.Start("serve", "--data-root", root, "--port", "0", "--metrics-port", "0", "--api-key", ApiKey, "--log-format", "json");
        try
        {
            var stderr = serve.StandardError.ReadToEndAsync();
            var (grpc, metrics) = await Cli.WaitUntilListeningAsync(serve);
            var keyed = new Dictionary<string, string?> { ["GENERALIST_API_KEY"] = ApiKey };
            for (var i = 0; i < 5; i++) Assert.Equal(0, Cli.Run(keyed, "runs", "list", "--server", grpc).ExitCode);
            using var http = new HttpClient();
            await http.GetStringAsync(metrics);
            // A refused call is the service's own warning: it is logged, as JSON.
            Assert.Equal(2, Cli.Run(null, "runs", "list", "--server", grpc).ExitCode);

            Process.Start("kill", ["-TERM", serve.Id.ToString()]).WaitForExit();
            Assert.True(serve.WaitForExit(30_000), "serve did not stop on SIGTERM");
            Assert.Equal("", (await serve.StandardOutput.ReadToEndAsync()).Trim());
            var lines = (await stderr).Split('\n', StringSplitOptions.RemoveEmptyEntries);
            var entries = lines.Select(l => JsonDocument.Parse(l).RootElement).ToList();
            var categories = entries.Select(e => e.GetProperty("Category").GetString()!).ToList();
            Assert.Contains(entries, e => e.GetProperty("Category").GetString()!.EndsWith("ServiceGateInterceptor", StringComparison.Ordinal)
                                          && e.GetProperty("LogLevel").GetString() == "Warning" && e.GetProperty("Message").GetString()!.Contains("no API key"));
            Assert.DoesNotContain(categories, c => c.StartsWith("Microsoft.AspNetCore", StringComparison.Ordinal) || c.StartsWith("Microsoft.Hosting", StringComparison.Ordinal));
            Assert.All(entries, e => Assert.True(e.TryGetProperty("Timestamp", out _)));
        }
        finally
        {
            if (!serve.HasExited) serve.Kill(true);
            TestService.TryDelete(root);
        }
    }

    [Fact]
    public async Task serve_log_level_debug_adds_the_frameworks_per_request_lines_in_text()
    {
        var root = Directory.CreateTempSubdirectory("generalist-serve-debug-").FullName;
        using var serve = Cli.Start("serve", "--data-root", root, "--port", "0", "--metrics-port", "0", "--log-level", "debug");
        try
        {
            var stderr = serve.StandardError.ReadToEndAsync();
            var (grpc, _) = await Cli.WaitUntilListeningAsync(serve);
            Assert.Equal(0, Cli.Run(null, "runs", "list", "--server", grpc).ExitCode);
            Process.Start("kill", ["-TERM", serve.Id.ToString()]).WaitForExit();
            Assert.True(serve.WaitForExit(30_000), "serve did not stop on SIGTERM");
            Assert.Equal("", (await serve.StandardOutput.ReadToEndAsync()).Trim());
            Assert.Contains("Request starting HTTP/2 POST", await stderr);
        }
        finally
        {
            if (!serve.HasExited) serve.Kill(true);
            TestService.TryDelete(root);
        }
    }

    [Fact]
    public void An_unknown_log_level_or_format_is_refused_with_exit_2()
    {
        var level = Cli.Run(null, "serve", "--data-root", Path.GetTempPath(), "--log-level", "loud");
        Assert.Equal(2, level.ExitCode);
        Assert.Contains("loud", level.Stderr);
        var format = Cli.Run(null, "serve", "--data-root", Path.GetTempPath(), "--log-format", "xml");
        Assert.Equal(2, format.ExitCode);
        Assert.Contains("xml", format.Stderr);
    }
}
