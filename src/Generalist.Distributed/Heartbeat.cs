using System.Text.Json;
using System.Text.Json.Serialization;

namespace Generalist.Distributed;

/// <summary>
/// What one rank last said about itself, in &lt;run&gt;/distributed/heartbeat/rank-N.json. The watchdog
/// of a rank stuck in a collective reads every rank's file to name the ranks that are late; the
/// service shows them as the run's per-rank state. Collective is the number of collectives the
/// rank has entered so far: ranks move in lockstep, so a rank whose count is below the waiting
/// rank's has not reached the collective everyone waits in. State is one of <see cref="States"/>;
/// Detail says why a rank failed (or what it is doing).
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
    [property: JsonPropertyName("updated_unix_ms")] long UpdatedUnixMs,
    [property: JsonPropertyName("state")] string State = Heartbeat.Starting,
    [property: JsonPropertyName("detail")] string Detail = "")
{
    public const string Starting = "starting";
    public const string Training = "training";
    public const string Completed = "completed";
    public const string Cancelled = "cancelled";
    public const string Failed = "failed";
    public static readonly IReadOnlyList<string> States = [Starting, Training, Completed, Cancelled, Failed];

    /// <summary>True once the rank has said how it ended.</summary>
    [JsonIgnore] public bool HasEnded => State is Completed or Cancelled or Failed;

    /// <summary>Where the heartbeats of a run directory live.</summary>
    public static string DirectoryOf(string runDirectory) => Path.Combine(runDirectory, "distributed", "heartbeat");

    /// <summary>Every rank's newest heartbeat in a directory, by rank (unreadable files are left out).</summary>
    public static List<Heartbeat> ReadAll(string directory)
    {
        if (!System.IO.Directory.Exists(directory)) return [];
        var beats = new List<Heartbeat>();
        foreach (var file in System.IO.Directory.GetFiles(directory, "rank-*.json"))
        {
            var name = Path.GetFileNameWithoutExtension(file);
            if (int.TryParse(name.AsSpan("rank-".Length), out var rank) && TryRead(directory, rank) is { } beat) beats.Add(beat);
        }
        return beats.OrderBy(b => b.Rank).ToList();
    }

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
