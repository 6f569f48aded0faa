namespace Generalist.Distributed;

/// <summary>
/// A request to stop a distributed job at its next step boundary with a checkpoint, as a file in
/// the run directory (&lt;run&gt;/distributed/stop) that every rank looks for once per step. Why a file
/// as well as SIGTERM: the run directory is shared by every machine of the job anyway, and a
/// launcher does not always pass SIGTERM on to the ranks (Open MPI's mpirun did not when its
/// odls_base_sigkill_timeout was 60 s), while a file reaches every rank whatever the launcher.
/// A file older than the rank's process is left over from an earlier job and ignored.
/// </summary>
public static class StopRequest
{
    public static string PathFor(string runDirectory) => Path.Combine(runDirectory, "distributed", "stop");

    /// <summary>Asks the job in this run directory to stop (temp name, then rename).</summary>
    public static void Write(string runDirectory, string reason)
    {
        var path = PathFor(runDirectory);
        Directory.CreateDirectory(Path.GetDirectoryName(path)!);
        var temp = path + $".{Environment.ProcessId}.tmp";
        File.WriteAllText(temp, reason);
        File.Move(temp, path, overwrite: true);
    }

    /// <summary>Removes a request (before a new job starts in the directory).</summary>
    public static void Clear(string runDirectory)
    {
        var path = PathFor(runDirectory);
        if (File.Exists(path)) File.Delete(path);
    }

    /// <summary>True when a request newer than <paramref name="sinceUtc"/> is there.</summary>
    public static bool IsRequested(string runDirectory, DateTime sinceUtc)
    {
        var info = new FileInfo(PathFor(runDirectory));
        return info.Exists && info.LastWriteTimeUtc >= sinceUtc;
    }
}
