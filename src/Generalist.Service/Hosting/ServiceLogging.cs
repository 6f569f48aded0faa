using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.Configuration.Memory;
using Microsoft.Extensions.Logging;

namespace Generalist.Service.Hosting;

/// <summary>
/// How the service logs (Microsoft.Extensions.Logging settings, so the standard `Logging:*`
/// configuration and environment variables still apply). Logs go to stderr: stdout carries only
/// what scripts read (the listening line first). ASP.NET Core's own categories stay at Warning,
/// so an RPC is not a log line, unless a level below Information is asked for.
/// </summary>
public static class ServiceLogging
{
    public const string Text = "text";
    public const string Json = "json";
    public static readonly string[] Formats = [Text, Json];

    /// <summary>The `--log-level` values, as Microsoft.Extensions.Logging names them (case-insensitive).</summary>
    public static readonly string[] Levels = Enum.GetNames<LogLevel>().Select(n => n.ToLowerInvariant()).ToArray();

    // Framework categories that log per request or repeat the listening line at Information.
    private static readonly string[] FrameworkCategories = ["Microsoft.AspNetCore", "Microsoft.Hosting.Lifetime"];

    /// <summary>
    /// The lowest-priority logging configuration of every host of the service (serve, demo, bench,
    /// tests): anything configured later (settings, appsettings, environment) overrides it.
    /// </summary>
    public static void AddDefaults(IConfigurationBuilder configuration) =>
        configuration.Sources.Insert(0, new MemoryConfigurationSource { InitialData = Settings(LogLevel.Information, Text) });

    /// <summary>The configuration of one level and format: `generalist serve --log-level L --log-format F`.</summary>
    public static Dictionary<string, string?> Settings(LogLevel level, string format)
    {
        if (!Formats.Contains(format)) throw new ArgumentOutOfRangeException(nameof(format), format, $"log format must be one of {string.Join(", ", Formats)}");
        // Debugging the service includes the framework's per-request lines; otherwise only its problems.
        var framework = level < LogLevel.Information ? level : LogLevel.Warning;
        var settings = new Dictionary<string, string?>
        {
            ["Logging:LogLevel:Default"] = level.ToString(),
            ["Logging:Console:LogToStandardErrorThreshold"] = nameof(LogLevel.Trace),
            // Microsoft.Extensions.Logging.Console's own formatters: "simple" (one line each) or "json" (one object each).
            ["Logging:Console:FormatterName"] = format == Json ? "json" : "simple",
            ["Logging:Console:FormatterOptions:UseUtcTimestamp"] = "true",
        };
        if (format == Json) settings["Logging:Console:FormatterOptions:TimestampFormat"] = "yyyy-MM-ddTHH:mm:ss.fffZ";
        else settings["Logging:Console:FormatterOptions:SingleLine"] = "true";
        foreach (var category in FrameworkCategories) settings[$"Logging:LogLevel:{category}"] = framework.ToString();
        return settings;
    }

    /// <summary>Parses a `--log-level` value; null when it is not one.</summary>
    public static LogLevel? ParseLevel(string text) => Enum.TryParse<LogLevel>(text, ignoreCase: true, out var level) && Enum.IsDefined(level) ? level : null;
}
