namespace Generalist.Service.Security;

/// <summary>
/// Confines paths that arrive in requests to the data root. Refused: empty, NUL and control
/// characters, backslashes, absolute and drive paths, '~', any '.' or '..' segment, any
/// percent-encoding (so `%2e%2e%2f` and double-encoded forms never reach the file system), and
/// symbolic links that lead outside. Hand-written: no held package confines paths this way.
/// </summary>
public static class SafePaths
{
    public const int MaxLength = 1024;

    /// <summary>Returns the absolute path under <paramref name="root"/> or throws <see cref="UnsafePathException"/> naming <paramref name="field"/>.</summary>
    public static string Resolve(string root, string? relative, string field)
    {
        var why = Problem(relative);
        if (why is not null) throw new UnsafePathException(field, why);
        var full = Path.GetFullPath(Path.Combine(root, relative!));
        if (!IsUnder(root, full)) throw new UnsafePathException(field, "must stay under the data root");
        // A symbolic link inside the root may point anywhere: resolve each existing component.
        var current = Path.TrimEndingDirectorySeparator(Path.GetFullPath(root));
        foreach (var segment in relative!.Split('/', StringSplitOptions.RemoveEmptyEntries))
        {
            current = Path.Combine(current, segment);
            FileSystemInfo info = Directory.Exists(current) ? new DirectoryInfo(current) : new FileInfo(current);
            if (!info.Exists || info.LinkTarget is null) continue;
            var target = info.ResolveLinkTarget(returnFinalTarget: true);
            if (target is null || !IsUnder(root, target.FullName))
                throw new UnsafePathException(field, "must not pass through a link that leaves the data root");
        }
        return full;
    }

    /// <summary>Why a relative path is refused, or null when it is acceptable.</summary>
    public static string? Problem(string? relative)
    {
        if (string.IsNullOrEmpty(relative)) return "must not be empty";
        if (relative.Length > MaxLength) return $"must be at most {MaxLength} characters";
        if (relative.Any(char.IsControl)) return "must not contain NUL or control characters";
        if (relative.Contains('%')) return "must not be percent-encoded (no '%')";
        if (relative.Contains('\\')) return "must use '/' separators (no '\\')";
        if (relative[0] == '/' || relative[0] == '~' || (relative.Length >= 2 && relative[1] == ':'))
            return "must be relative to the data root (no absolute paths, '~' or drive letters)";
        foreach (var segment in relative.Split('/'))
            if (segment is "." or ".." || segment.Trim() is "..")
                return "must not contain '.' or '..' segments";
        return null;
    }

    public static bool IsUnder(string root, string fullPath)
    {
        var r = Path.TrimEndingDirectorySeparator(Path.GetFullPath(root)) + Path.DirectorySeparatorChar;
        var f = Path.GetFullPath(fullPath);
        return f.StartsWith(r, StringComparison.Ordinal) || f + Path.DirectorySeparatorChar == r;
    }
}

/// <summary>A request path that would leave the data root; becomes INVALID_ARGUMENT with the field.</summary>
public sealed class UnsafePathException(string field, string description) : Exception($"{field}: {description}")
{
    public string Field { get; } = field;
    public string Description { get; } = description;
}
