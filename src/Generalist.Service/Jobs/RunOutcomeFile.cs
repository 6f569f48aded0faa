using System.Text;
using System.Text.Json;
using Generalist.Service.Registry;

namespace Generalist.Service.Jobs;

/// <summary>
/// How a run ended, kept where a full disk can still take it: &lt;run&gt;/outcome.json is written
/// full of spaces (4 KiB) when the run starts, so that recording its end later overwrites blocks
/// the file already owns instead of needing new ones (on ext4, xfs and tmpfs; copy-on-write
/// filesystems such as btrfs and zfs may still need space). The registry is the record; this file
/// is read only at the next start, for a run the registry still shows executing because writing
/// its end there failed (SQLite needs free space for every write).
/// </summary>
public static class RunOutcomeFile
{
    public const string FileName = "outcome.json";
    private const int Size = 4096;

    /// <summary>Reserves the file's space at the start of an attempt (clears an earlier attempt's outcome); false when even that failed.</summary>
    public static bool Reserve(string runDirectory)
    {
        try
        {
            File.WriteAllBytes(Path.Combine(runDirectory, FileName), Enumerable.Repeat((byte)' ', Size).ToArray());
            return true;
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException)
        {
            return false;
        }
    }

    /// <summary>Writes the outcome into the reserved bytes, in place; false when that failed too.</summary>
    public static bool TryWrite(string runDirectory, JobState state, string reason)
    {
        var text = JsonSerializer.Serialize(new Outcome(JobStates.ToText(state), reason.Length > 2000 ? reason[..2000] + "..." : reason));
        var bytes = Encoding.UTF8.GetBytes(text);
        if (bytes.Length > Size) return false;
        try
        {
            using var f = new FileStream(Path.Combine(runDirectory, FileName), FileMode.Open, FileAccess.Write, FileShare.Read);
            f.Write(bytes);
            f.Flush(flushToDisk: true);
            return true;
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException)
        {
            return false;
        }
    }

    /// <summary>The outcome a run recorded here, or null (none, still reserved, or unreadable).</summary>
    public static (JobState State, string Reason)? Read(string runDirectory)
    {
        try
        {
            var path = Path.Combine(runDirectory, FileName);
            if (!File.Exists(path)) return null;
            var text = File.ReadAllText(path).Trim();
            if (text.Length == 0) return null;
            var outcome = JsonSerializer.Deserialize<Outcome>(text);
            if (outcome is null || outcome.State is not ("succeeded" or "failed" or "cancelled" or "interrupted")) return null;
            return (JobStates.FromText(outcome.State), outcome.Reason);
        }
        catch (Exception e) when (e is IOException or JsonException or UnauthorizedAccessException)
        {
            return null;
        }
    }

    private sealed record Outcome(string State, string Reason);
}
