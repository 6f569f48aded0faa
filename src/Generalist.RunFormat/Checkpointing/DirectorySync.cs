using System.Runtime.InteropServices;

namespace Generalist.RunFormat.Checkpointing;

/// <summary>
/// fsync of a directory, so that a rename inside it (the step that publishes a checkpoint) reaches
/// the disk and survives a power cut, not only a killed process. .NET flushes files
/// (FileStream.Flush(true)) but has no API to flush a directory entry, so this calls libc's
/// open(O_RDONLY) + fsync directly. It does nothing on systems other than Linux.
/// </summary>
internal static partial class DirectorySync
{
    private const int ReadOnly = 0; // O_RDONLY: Linux opens a directory read-only without O_DIRECTORY, whose value differs by architecture

    [LibraryImport("libc", EntryPoint = "open", SetLastError = true, StringMarshalling = StringMarshalling.Utf8)]
    private static partial int Open(string path, int flags);

    [LibraryImport("libc", EntryPoint = "fsync", SetLastError = true)]
    private static partial int Fsync(int fd);

    [LibraryImport("libc", EntryPoint = "close")]
    private static partial int Close(int fd);

    /// <summary>Flushes the directory's entries to disk; throws IOException naming it when that fails.</summary>
    public static void Flush(string directory)
    {
        if (!OperatingSystem.IsLinux()) return;
        var fd = Open(directory, ReadOnly);
        if (fd < 0) throw new IOException($"{directory}: could not open the directory to flush it (errno {Marshal.GetLastPInvokeError()})");
        try
        {
            if (Fsync(fd) != 0) throw new IOException($"{directory}: fsync of the directory failed (errno {Marshal.GetLastPInvokeError()})");
        }
        finally
        {
            Close(fd);
        }
    }
}
