namespace Generalist.RunFormat;

/// <summary>What marks a directory as a run's: the trainer's lock file (held by
/// Generalist.Training's RunDirectoryLock while it trains), or, for runs from before locks,
/// metrics.jsonl beside checkpoints/.</summary>
public static class RunDirectory
{
    public const string LockFileName = ".run.lock";

    /// <summary>A directory a run has trained into.</summary>
    public static bool IsRunDirectory(string dir) =>
        File.Exists(Path.Combine(dir, LockFileName))
        || (File.Exists(Path.Combine(dir, "metrics.jsonl")) && Directory.Exists(Path.Combine(dir, "checkpoints")));
}
