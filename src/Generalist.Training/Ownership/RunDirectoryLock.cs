using Generalist.RunFormat;
namespace Generalist.Training.Ownership;

/// <summary>
/// The run directory's lock: the one process training a run holds <c>&lt;run&gt;/.run.lock</c> for its
/// whole life (rank 0 of a job of several). A second trainer into the same directory, or into any
/// directory inside a run (whose checkpoints that run prunes), is refused before it writes a byte.
/// </summary>
public static class RunDirectoryLock
{
    public const string FileName = RunDirectory.LockFileName;
    private const string What = "run directory";

    /// <summary>Refuses a directory inside another run's, or one whose checkpoints/ is another run's; read-only, so every rank may call it.</summary>
    public static void RefuseNested(string runDirectory)
    {
        var full = Path.TrimEndingDirectorySeparator(Path.GetFullPath(runDirectory));
        for (var dir = Path.GetDirectoryName(full); dir is not null; dir = Path.GetDirectoryName(dir))
        {
            if (!RunDirectory.IsRunDirectory(dir)) continue;
            var live = DirectoryLock.IsHeld(dir, FileName, out var holder);
            var whose = live ? $"in use by {holder?.Describe() ?? "another process"}" : "not training now";
            throw new DirectoryInUseException(dir, holder,
                $"{full} is inside the run directory {dir} ({whose}), whose checkpoints that run prunes; choose a directory outside it");
        }
        // The other way round: a run whose directory is this one's checkpoints/ would have its
        // step-N directories listed, replaced and pruned as this run's own.
        var checkpoints = Path.Combine(full, "checkpoints");
        if (RunDirectory.IsRunDirectory(checkpoints))
        {
            var live = DirectoryLock.IsHeld(checkpoints, FileName, out var holder);
            throw new DirectoryInUseException(checkpoints, holder,
                $"{checkpoints} is the run directory of another run ({(live ? $"in use by {holder?.Describe() ?? "another process"}" : "not training now")}); " +
                $"{full} would write its checkpoints into it: choose another directory");
        }
    }

    /// <summary>Refuses a nested directory, creates the run directory and takes its lock; throws <see cref="DirectoryInUseException"/> naming the holder.</summary>
    public static DirectoryLock Acquire(string runDirectory, string role = "generalist train")
    {
        RefuseNested(runDirectory);
        var full = Path.TrimEndingDirectorySeparator(Path.GetFullPath(runDirectory));
        Directory.CreateDirectory(full);
        return DirectoryLock.Acquire(full, FileName, role, What);
    }

    /// <summary>Whether a live trainer holds <paramref name="runDirectory"/>, and who.</summary>
    public static bool IsHeld(string runDirectory, out LockHolder? holder) =>
        DirectoryLock.IsHeld(runDirectory, FileName, out holder);

    /// <summary>Throws <see cref="DirectoryInUseException"/> when a live trainer holds the directory.</summary>
    public static void RefuseIfHeld(string runDirectory)
    {
        if (IsHeld(runDirectory, out var holder)) throw DirectoryLock.InUse(Path.GetFullPath(runDirectory), What, holder);
    }
}
