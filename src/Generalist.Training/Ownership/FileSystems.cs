using System.Runtime.InteropServices;

namespace Generalist.Training.Ownership;

/// <summary>
/// What a directory lock is worth on the filesystem it lives on. OFD locks are exact on local
/// filesystems (ext4, xfs, btrfs, tmpfs, overlay). On network filesystems it depends on the mount:
/// Linux NFS clients send them to the server as POSIX locks, which it enforces across hosts
/// (NFSv4, or NFSv3 with lockd), but with `nolock` or `local_lock=posix` they stay on one host;
/// CIFS/SMB and FUSE filesystems (sshfs, many cloud buckets) differ by server and option. Those are
/// named in a warning when a lock is taken there, so the log says how far to trust it.
/// </summary>
public static partial class FileSystems
{
    private static readonly Dictionary<long, string> Networked = new()
    {
        [0x6969] = "nfs",
        [0x517B] = "smb",
        [unchecked((long)0xFF534D42)] = "cifs",
        [unchecked((long)0xFE534D42)] = "smb2",
        [0x65735546] = "fuse",
        [0x01021997] = "9p",
        [0x0BD00BD0] = "lustre",
        [0x47504653] = "gpfs",
        [0x00C36400] = "ceph",
        [0x5346414F] = "afs",
    };

    /// <summary>The network filesystem <paramref name="directory"/> is on ("nfs", "cifs", ...), or null for a local one or where unknown.</summary>
    public static string? NetworkKind(string directory)
    {
        if (!OperatingSystem.IsLinux()) return null;
        var buffer = new byte[256]; // struct statfs is 120 bytes on 64-bit Linux; f_type comes first
        if (StatFs(directory, buffer) != 0) return null;
        var type = BitConverter.ToInt64(buffer, 0) & 0xFFFFFFFF;
        return Networked.GetValueOrDefault(type);
    }

    /// <summary>A one-line warning when a lock in <paramref name="directory"/> may not keep out a process on another host.</summary>
    public static string? WeakLockWarning(string directory) => NetworkKind(directory) is { } kind
        ? $"{directory} is on {kind}: its lock keeps out processes on other hosts only where the mount enforces locks across hosts (NFSv4, or NFSv3 with lockd, not 'nolock'); run one service per data root there"
        : null;

    /// <summary>Whether the holder is a live process on this host (the fallback where flock is missing).</summary>
    public static bool IsAliveHere(LockHolder holder) =>
        string.Equals(holder.Host, Environment.MachineName, StringComparison.Ordinal) && holder.Pid > 0 && Directory.Exists($"/proc/{holder.Pid}");

    [LibraryImport("libc", EntryPoint = "statfs", SetLastError = true, StringMarshalling = StringMarshalling.Utf8)]
    private static partial int StatFs(string path, byte[] buffer);
}
