using System.Globalization;
using System.Text.Json;
using System.Text.Json.Serialization;

namespace Generalist.Training.Ownership;

/// <summary>
/// Who holds a <see cref="DirectoryLock"/>: written into the lock file by the holder right after it
/// took the lock, so that a refused process can name it (pid, host, since when, what it is doing).
/// </summary>
public sealed record LockHolder(
    [property: JsonPropertyName("pid")] int Pid,
    [property: JsonPropertyName("host")] string Host,
    [property: JsonPropertyName("since_utc")] DateTime SinceUtc,
    [property: JsonPropertyName("role")] string Role)
{
    public static LockHolder ForThisProcess(string role) =>
        new(Environment.ProcessId, Environment.MachineName, DateTime.UtcNow, role);

    /// <summary>"generalist train (pid 123 on host, since 2026-12-02 18:00:00Z)".</summary>
    public string Describe() =>
        $"{Role} (pid {Pid} on {Host}, since {SinceUtc.ToString("yyyy-MM-dd HH:mm:ss'Z'", CultureInfo.InvariantCulture)})";

    public string ToJson() => JsonSerializer.Serialize(this);

    /// <summary>The holder a lock file names, or null when it names none (still being written, or not ours).</summary>
    public static LockHolder? TryParse(string text)
    {
        try
        {
            return string.IsNullOrWhiteSpace(text) ? null : JsonSerializer.Deserialize<LockHolder>(text);
        }
        catch (JsonException)
        {
            return null;
        }
    }
}
