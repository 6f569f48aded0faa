using System.Runtime.InteropServices;
using System.Text;

namespace Generalist.Training.Ownership;

/// <summary>
/// A directory is in use by another live process (or lies inside one that is): refused at once,
/// naming the holder, before anything in it was touched.
/// </summary>
public sealed class DirectoryInUseException(string directory, LockHolder? holder, string message) : IOException(message)
{
    public string Directory { get; } = directory;
    public LockHolder? Holder { get; } = holder;
}

/// <summary>
/// An exclusive lock on a directory, held for the life of the process that owns it: an open file
/// description lock (fcntl F_OFD_SETLK, Linux 3.15+) on a lock file inside it, taken without
/// waiting so a second owner is refused at once. The kernel drops it when the holder exits however
/// it exits (kill -9 included), so a lock is never stale; the file stays behind on purpose
/// (deleting it would let a third process lock a new file while a second still holds the old,
/// unlinked one). The holder writes who it is into the file (<see cref="LockHolder"/>) for the
/// refusal message.
///
/// Why OFD locks and not flock: .NET takes a shared flock on every file it opens, so with flock an
/// ordinary File.ReadAllBytes of the lock file (a backup, a test, a viewer) would fail while the run
/// is live; OFD locks and flock do not interact on local filesystems. Unlike classic POSIX locks
/// they belong to the open file, not the process, so another descriptor of the file closed in the
/// same process does not drop them, and two owners in one process still exclude each other. A probe
/// (<see cref="IsHeld"/>) asks with F_OFD_GETLK and takes nothing, so it never makes an owner fail.
/// Network filesystems: see <see cref="FileSystems"/>.
/// </summary>
public sealed partial class DirectoryLock : IDisposable
{
    private int _fd;

    private DirectoryLock(int fd, string path, LockHolder holder, string? warning)
    {
        _fd = fd;
        FilePath = path;
        Holder = holder;
        Warning = warning;
    }

    /// <summary>The lock file.</summary>
    public string FilePath { get; }
    public LockHolder Holder { get; }
    /// <summary>Set when this filesystem's locks may not keep out a process on another host (said once in the log).</summary>
    public string? Warning { get; }

    /// <summary>
    /// Takes the lock on <paramref name="directory"/> (which must exist) or throws
    /// <see cref="DirectoryInUseException"/> naming the holder. <paramref name="what"/> names the
    /// directory in messages ("run directory", "data root").
    /// </summary>
    public static DirectoryLock Acquire(string directory, string fileName, string role, string what)
    {
        var path = Path.Combine(directory, fileName);
        var fd = Open(path, ReadWrite | Create | CloseOnExec, 0x1A4 /* 0644 */);
        if (fd < 0) throw new IOException($"{path}: cannot create the {what}'s lock file: {ErrorText(Marshal.GetLastPInvokeError())}");
        try
        {
            var errno = SetLock(fd, WriteLock) == 0 ? 0 : Marshal.GetLastPInvokeError();
            string? warning = null;
            if (errno is WouldBlock or Denied)
            {
                var holder = LockHolder.TryParse(ReadAll(fd));
                throw InUse(directory, what, holder);
            }
            if (errno != 0)
            {
                // No working locks here (ENOLCK on NFS without lockd, EINVAL on kernels before 3.15,
                // ENOTSUP on some FUSE filesystems): fall back to what the file says, which catches a
                // live holder on this host.
                var previous = LockHolder.TryParse(ReadAll(fd));
                if (previous is not null && previous.Pid != Environment.ProcessId && FileSystems.IsAliveHere(previous))
                    throw InUse(directory, what, previous);
                warning = $"{path}: this filesystem does not support file locks ({ErrorText(errno)}); another process on this host is refused by pid, one on another host is not";
            }
            warning ??= FileSystems.WeakLockWarning(directory);
            var me = LockHolder.ForThisProcess(role);
            WriteAll(fd, me.ToJson());
            return new DirectoryLock(fd, path, me, warning);
        }
        catch
        {
            Close(fd);
            throw;
        }
    }

    /// <summary>
    /// Whether a live process holds the lock file in <paramref name="directory"/>, and who (null
    /// when its file does not say yet). Asks the kernel (F_OFD_GETLK); takes no lock, never waits.
    /// </summary>
    public static bool IsHeld(string directory, string fileName, out LockHolder? holder)
    {
        holder = null;
        var path = Path.Combine(directory, fileName);
        var fd = Open(path, ReadWrite | CloseOnExec, 0);
        if (fd < 0) fd = Open(path, ReadOnlyFlag | CloseOnExec, 0);
        if (fd < 0) return false; // no lock file: never held
        try
        {
            var query = new FlockStruct { Type = WriteLock };
            if (Fcntl(fd, OfdGetLock, ref query) == 0)
            {
                if (query.Type == Unlocked) return false;
                holder = LockHolder.TryParse(ReadAll(fd));
                return true;
            }
            // No locks on this filesystem: judge by the pid the file names.
            holder = LockHolder.TryParse(ReadAll(fd));
            return holder is not null && holder.Pid != Environment.ProcessId && FileSystems.IsAliveHere(holder);
        }
        finally
        {
            Close(fd);
        }
    }

    /// <summary>"the run directory /x is in use by generalist train (pid 1 on h, since ...)".</summary>
    public static DirectoryInUseException InUse(string directory, string what, LockHolder? holder) =>
        new(directory, holder,
            $"the {what} {directory} is in use by {holder?.Describe() ?? "another process (it has not yet written who it is)"}; " +
            "wait for it to finish or stop it, or choose another directory");

    public void Dispose()
    {
        var fd = Interlocked.Exchange(ref _fd, -1);
        if (fd < 0) return;
        var release = new FlockStruct { Type = Unlocked };
        Fcntl(fd, OfdSetLock, ref release);
        Close(fd);
    }

    private static string ReadAll(int fd)
    {
        var buffer = new byte[4096];
        var n = PRead(fd, buffer, buffer.Length, 0);
        return n <= 0 ? "" : Encoding.UTF8.GetString(buffer, 0, (int)n);
    }

    private static void WriteAll(int fd, string text)
    {
        var bytes = Encoding.UTF8.GetBytes(text + "\n");
        // Who holds it is for messages only: a failure to say so (a full disk) must not fail the owner.
        if (FTruncate(fd, 0) == 0) _ = PWrite(fd, bytes, bytes.Length, 0);
    }

    internal static string ErrorText(int errno) => $"{Marshal.GetPInvokeErrorMessage(errno)} (errno {errno})";

    /// <summary>Whole-file lock of <paramref name="type"/> on the open file description; 0 or -1 with errno.</summary>
    private static int SetLock(int fd, short type)
    {
        var request = new FlockStruct { Type = type };
        return Fcntl(fd, OfdSetLock, ref request);
    }

    /// <summary>struct flock (64-bit Linux): l_type, l_whence, l_start, l_len, l_pid; start 0 and length 0 = the whole file.</summary>
    [StructLayout(LayoutKind.Sequential)]
    private struct FlockStruct
    {
        public short Type;
        public short Whence;
        public long Start;
        public long Length;
        public int Pid; // must be 0 for OFD locks
    }

    // Linux values (the same on x86-64 and arm64).
    private const int ReadOnlyFlag = 0, ReadWrite = 2, Create = 0x40, CloseOnExec = 0x80000;
    private const int OfdGetLock = 36, OfdSetLock = 37;
    private const short WriteLock = 1, Unlocked = 2;
    private const int WouldBlock = 11, Denied = 13; // EAGAIN, EACCES: another holds a conflicting lock

    [LibraryImport("libc", EntryPoint = "open", SetLastError = true, StringMarshalling = StringMarshalling.Utf8)]
    private static partial int Open(string path, int flags, int mode);

    [LibraryImport("libc", EntryPoint = "fcntl", SetLastError = true)]
    private static partial int Fcntl(int fd, int command, ref FlockStruct flock);

    [LibraryImport("libc", EntryPoint = "pread", SetLastError = true)]
    private static partial nint PRead(int fd, byte[] buffer, nint count, long offset);

    [LibraryImport("libc", EntryPoint = "pwrite", SetLastError = true)]
    private static partial nint PWrite(int fd, byte[] buffer, nint count, long offset);

    [LibraryImport("libc", EntryPoint = "ftruncate", SetLastError = true)]
    private static partial int FTruncate(int fd, long length);

    [LibraryImport("libc", EntryPoint = "close")]
    private static partial int Close(int fd);
}
