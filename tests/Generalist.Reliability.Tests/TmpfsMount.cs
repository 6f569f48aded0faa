using System.Diagnostics;

namespace Generalist.Reliability.Tests;

/// <summary>
/// A small tmpfs mounted for one test: a real disk that really fills up (ENOSPC from the kernel,
/// SQLite's "database or disk is full"), not an injected exception. Needs the right to mount
/// (root, or CAP_SYS_ADMIN in a container); <see cref="TryCreate"/> returns null without it and the
/// test says so in its output.
/// </summary>
internal sealed class TmpfsMount : IDisposable
{
    private TmpfsMount(string path) => Path = path;

    public string Path { get; }

    public static TmpfsMount? TryCreate(int kibibytes)
    {
        if (!OperatingSystem.IsLinux()) return null;
        var dir = Directory.CreateTempSubdirectory("generalist-tmpfs-").FullName;
        if (Run("mount", "-t", "tmpfs", "-o", $"size={kibibytes}k", "tmpfs", dir) == 0) return new TmpfsMount(dir);
        Directory.Delete(dir);
        return null;
    }

    /// <summary>Writes a file until the disk refuses more; returns its path.</summary>
    public string Fill()
    {
        var filler = System.IO.Path.Combine(Path, "filler");
        using var f = new FileStream(filler, FileMode.Append, FileAccess.Write, FileShare.None, 1);
        var chunk = new byte[4096];
        try
        {
            while (true) f.Write(chunk);
        }
        catch (IOException)
        {
            // full
        }
        return filler;
    }

    public void Dispose()
    {
        Run("umount", "-l", Path);
        try { Directory.Delete(Path, recursive: true); } catch (IOException) { }
    }

    private static int Run(string program, params string[] args)
    {
        try
        {
            using var p = Process.Start(new ProcessStartInfo(program, args) { RedirectStandardError = true, RedirectStandardOutput = true })!;
            p.WaitForExit(10_000);
            return p.HasExited ? p.ExitCode : -1;
        }
        catch (System.ComponentModel.Win32Exception)
        {
            return -1;
        }
    }
}
