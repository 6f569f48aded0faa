namespace Generalist.RunFormat;

/// <summary>
/// What a failed write says about the disk, in words: "no space left on device", "read-only file
/// system", "disk quota exceeded". .NET puts the errno in an IOException's HResult on Unix and the
/// C library's wording in its message; both are checked, so the reason a run failed names the
/// disk's condition, not just "an I/O error".
/// </summary>
public static class StorageErrors
{
    public const int NoSpace = 28, ReadOnly = 30, Quota = 122;

    public enum Kind { Other, Full, ReadOnly }

    public static Kind Classify(Exception e)
    {
        for (var x = e; x is not null; x = x.InnerException)
        {
            var m = x.Message;
            if (x.HResult is NoSpace or Quota || m.Contains("No space left", StringComparison.OrdinalIgnoreCase)
                || m.Contains("quota exceeded", StringComparison.OrdinalIgnoreCase) || m.Contains("disk is full", StringComparison.OrdinalIgnoreCase))
                return Kind.Full;
            if (x.HResult == ReadOnly || m.Contains("Read-only file system", StringComparison.OrdinalIgnoreCase)
                || m.Contains("readonly database", StringComparison.OrdinalIgnoreCase) || x is UnauthorizedAccessException)
                return Kind.ReadOnly;
        }
        return Kind.Other;
    }

    /// <summary>"the disk is full (No space left on device : '/x/metrics.jsonl')"; other errors as they are.</summary>
    public static string Describe(Exception e) => Classify(e) switch
    {
        Kind.Full => $"the disk is full ({e.Message.Trim()}); free space on it, then resume",
        Kind.ReadOnly => $"the disk is read-only or not writable ({e.Message.Trim()})",
        _ => e.Message.Trim(),
    };
}
