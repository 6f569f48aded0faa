using System.Text.Json;
using System.Text.Json.Serialization;

namespace Generalist.Distributed;

/// <summary>
/// What one rank last said about itself, in &lt;run&gt;/distributed/heartbeat/rank-N.json. The watchdog
/// of a rank stuck in a collective reads every rank's file to name the ranks that are late.
/// Collective is the number of collectives the rank has entered so far: ranks move in lockstep, so
/// a rank whose count is below the waiting rank's has not reached the collective everyone waits in.
/// </summary>
public sealed record Heartbeat(
    [property: JsonPropertyName("job")] string Job,
    [property: JsonPropertyName("rank")] int Rank,
    [property: JsonPropertyName("pid")] int Pid,
    [property: JsonPropertyName("host")] string Host,
    [property: JsonPropertyName("collective")] long Collective,
    [property: JsonPropertyName("in_collective")] bool InCollective,
    [property: JsonPropertyName("operation")] string Operation,
    [property: JsonPropertyName("step")] long Step,
    [property: JsonPropertyName("updated_unix_ms")] long UpdatedUnixMs)
{
    public static string PathFor(string directory, int rank) => Path.Combine(directory, $"rank-{rank}.json");

    /// <summary>Temp name then rename: a reader never sees half a file.</summary>
    public void Write(string directory)
    {
        var path = PathFor(directory, Rank);
        var temp = path + $".{Pid}.tmp";
        File.WriteAllText(temp, JsonSerializer.Serialize(this));
        File.Move(temp, path, overwrite: true);
    }

    public static Heartbeat? TryRead(string directory, int rank)
    {
        try
        {
            var path = PathFor(directory, rank);
            return File.Exists(path) ? JsonSerializer.Deserialize<Heartbeat>(File.ReadAllText(path)) : null;
        }
        catch (Exception e) when (e is IOException or JsonException or UnauthorizedAccessException)
        {
            return null;
        }
    }
}
