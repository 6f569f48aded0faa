using System.Globalization;
using Generalist.RunFormat;

namespace Generalist.Training.Ownership;

/// <summary>
/// The lease a service gives the trainer processes it launches: a file whose modification time
/// the service renews every second or so while it follows the job. A rank that sees the file go
/// unrenewed for the lease's length (the service died: kill -9, OOM, a lost host) stops at the
/// next step boundary with a checkpoint, as if cancelled, so no trainer outlives its service and
/// keeps writing into a run the next service may resume. Parent-death signals cannot do this: the
/// ranks' parent is the launcher (mpirun, srun), not the service, and ranks may be on other hosts.
///
/// Renewal is judged by the file changing, measured on the rank's own clock, so clock skew between
/// the service's host and a rank's host does not matter.
/// </summary>
public sealed class ServiceLease
{
    public const string FileVariable = "GENERALIST_LEASE_FILE";
    public const string SecondsVariable = "GENERALIST_LEASE_SECONDS";
    public static readonly TimeSpan DefaultLength = TimeSpan.FromSeconds(30);

    private readonly Func<DateTime> _now;
    private DateTime _lastSeenWrite = DateTime.MinValue;
    private DateTime _lastChange;

    public ServiceLease(string path, TimeSpan length, Func<DateTime>? now = null)
    {
        Path = path;
        Length = length;
        _now = now ?? (() => DateTime.UtcNow);
        _lastChange = _now();
    }

    public string Path { get; }
    public TimeSpan Length { get; }

    /// <summary>The lease the launching service set in the environment; null when not launched by one.</summary>
    public static ServiceLease? FromEnvironment()
    {
        var path = Environment.GetEnvironmentVariable(FileVariable);
        if (string.IsNullOrEmpty(path)) return null;
        var seconds = Environment.GetEnvironmentVariable(SecondsVariable);
        var length = DefaultLength;
        if (!string.IsNullOrEmpty(seconds))
        {
            if (!double.TryParse(seconds, NumberStyles.Float, CultureInfo.InvariantCulture, out var s) || !(s is >= 0.1 and <= 86400))
                throw new ConfigException(SecondsVariable, $"{SecondsVariable} must be a number of seconds in [0.1, 86400] (got '{seconds}')");
            length = TimeSpan.FromSeconds(s);
        }
        return new ServiceLease(System.IO.Path.GetFullPath(path), length);
    }

    /// <summary>The service's side: creates the file or moves its modification time to now.</summary>
    public static void Renew(string path)
    {
        if (!File.Exists(path))
        {
            Directory.CreateDirectory(System.IO.Path.GetDirectoryName(path)!);
            File.WriteAllText(path, "");
        }
        File.SetLastWriteTimeUtc(path, DateTime.UtcNow);
    }

    /// <summary>One stat: true once the file has not changed for <see cref="Length"/> (a missing file never changes).</summary>
    public bool Lapsed()
    {
        var now = _now();
        try
        {
            var write = File.Exists(Path) ? File.GetLastWriteTimeUtc(Path) : DateTime.MinValue;
            if (write != _lastSeenWrite)
            {
                _lastSeenWrite = write;
                _lastChange = now;
            }
        }
        catch (IOException)
        {
            // An unreadable file is an unrenewed one.
        }
        return now - _lastChange > Length;
    }
}
