using System.Diagnostics;
using System.Text;

namespace Generalist.Distributed;

/// <summary>
/// Puts a deadline on every collective. A background thread (not the thread pool, which a stuck
/// job may starve) wakes a few times per timeout, writes this rank's heartbeat file and, when the
/// collective in progress has run past its deadline, reads every rank's heartbeat to name the late
/// ranks and ends the whole job through <see cref="ICommunicator.Abort"/> (MPI_Abort kills every
/// rank). A rank that dies is normally reported by mpirun/srun at once; a rank that hangs or is
/// frozen is what this catches: MPI itself would wait forever.
/// </summary>
public sealed class CollectiveWatchdog : IDisposable
{
    public const int AbortExitCode = 3;

    private readonly ICommunicator _communicator;
    private readonly string? _heartbeatDirectory;
    private readonly string _job;
    private readonly Action<string> _abort;
    private readonly Thread _thread;
    private readonly ManualResetEventSlim _stop = new();
    private readonly Lock _gate = new();
    private long _collective;
    private string _operation = "";
    private long _startedTicks;
    private TimeSpan _deadline;
    private bool _inCollective;
    private volatile bool _aborting;

    public TimeSpan Timeout { get; }
    public TimeSpan Interval { get; }
    /// <summary>The trainer's current step, for messages and heartbeats.</summary>
    public long Step { get; set; }

    private string _state = Heartbeat.Starting;
    private string _detail = "";

    /// <summary>This rank's state (<see cref="Heartbeat.States"/>) and why; written to its heartbeat file at once.</summary>
    public void SetState(string state, string detail = "")
    {
        lock (_gate)
        {
            _state = state;
            _detail = detail;
        }
        try
        {
            if (_heartbeatDirectory is not null) WriteHeartbeat();
        }
        catch (IOException)
        {
            // As in the loop: a flaky disk must not end training.
        }
    }

    /// <param name="abort">What to do with the message on timeout; default: Abort the job (exit code 3).</param>
    public CollectiveWatchdog(ICommunicator communicator, TimeSpan timeout, string? heartbeatDirectory, string job, Action<string>? abort = null)
    {
        if (timeout <= TimeSpan.Zero) throw new ArgumentOutOfRangeException(nameof(timeout), "timeout must be > 0");
        _communicator = communicator;
        Timeout = timeout;
        // Often enough that heartbeats are fresh compared with the timeout, rarely enough to cost nothing.
        Interval = TimeSpan.FromSeconds(Math.Clamp(timeout.TotalSeconds / 5, 0.1, 5));
        _heartbeatDirectory = heartbeatDirectory;
        _job = job;
        _abort = abort ?? (message => _communicator.Abort(message, AbortExitCode));
        if (_heartbeatDirectory is not null)
        {
            Directory.CreateDirectory(_heartbeatDirectory);
            WriteHeartbeat();
        }
        _thread = new Thread(Loop) { IsBackground = true, Name = $"collective-watchdog-{communicator.Rank}" };
        _thread.Start();
    }

    /// <summary>Marks a collective as in progress until the returned scope is disposed.</summary>
    public Scope Enter(string operation, TimeSpan? timeout = null)
    {
        lock (_gate)
        {
            _collective++;
            _operation = operation;
            _deadline = timeout ?? Timeout;
            _startedTicks = Stopwatch.GetTimestamp();
            _inCollective = true;
        }
        return new Scope(this);
    }

    public readonly struct Scope(CollectiveWatchdog owner) : IDisposable
    {
        public void Dispose()
        {
            lock (owner._gate) owner._inCollective = false;
        }
    }

    private void Loop()
    {
        while (!_stop.Wait(Interval))
        {
            try
            {
                if (_heartbeatDirectory is not null) WriteHeartbeat();
            }
            catch (IOException)
            {
                // A full or flaky disk must not kill training; the diagnosis just gets poorer.
            }
            string? message = null;
            lock (_gate)
            {
                if (_inCollective && !_aborting && Stopwatch.GetElapsedTime(_startedTicks) > _deadline)
                {
                    _aborting = true;
                    message = Diagnose(_collective, _operation, Stopwatch.GetElapsedTime(_startedTicks));
                }
            }
            if (message is not null)
            {
                _abort(message);
                return;
            }
        }
    }

    // The loop and SetState both write the file: one writer at a time, so the newest state always lands last.
    private readonly Lock _writeGate = new();

    private void WriteHeartbeat()
    {
        lock (_writeGate) WriteHeartbeatLocked();
    }

    private void WriteHeartbeatLocked()
    {
        Heartbeat beat;
        lock (_gate)
            beat = new Heartbeat(_job, _communicator.Rank, Environment.ProcessId, Environment.MachineName,
                _collective, _inCollective, _operation, Step, DateTimeOffset.UtcNow.ToUnixTimeMilliseconds(), _state, _detail);
        beat.Write(_heartbeatDirectory!);
    }

    /// <summary>The one-paragraph reason the job is stopped, naming every late rank.</summary>
    internal string Diagnose(long collective, string operation, TimeSpan waited)
    {
        var me = _communicator.Rank;
        var text = new StringBuilder(
            $"distributed watchdog: rank {me} waited {waited.TotalSeconds:F1} s (timeout {_deadline.TotalSeconds:F0} s, distributed.timeout_seconds) " +
            $"in collective #{collective} '{operation}' at step {Step}. ");
        if (_heartbeatDirectory is null)
        {
            text.Append("No heartbeat directory is configured, so the late rank cannot be named. Stopping the whole job.");
            return text.ToString();
        }
        var late = new List<string>();
        var now = DateTimeOffset.UtcNow.ToUnixTimeMilliseconds();
        var staleMs = (long)Math.Max(3 * Interval.TotalMilliseconds, 2000);
        for (var r = 0; r < _communicator.WorldSize; r++)
        {
            if (r == me) continue;
            var beat = Heartbeat.TryRead(_heartbeatDirectory, r);
            if (beat is null || beat.Job != _job)
            {
                late.Add($"rank {r} has no heartbeat from this job in {_heartbeatDirectory} (it never started, or that directory is not shared between machines)");
                continue;
            }
            var who = $"rank {r} (pid {beat.Pid} on {beat.Host})";
            var age = (now - beat.UpdatedUnixMs) / 1000.0;
            if (now - beat.UpdatedUnixMs > staleMs)
            {
                var gone = beat.Host == Environment.MachineName && !ProcessAlive(beat.Pid) ? "; its process is gone (exited or killed)" : "";
                late.Add($"{who} sent no heartbeat for {age:F1} s: the process died or is frozen{gone}; it was at collective #{beat.Collective}, step {beat.Step}");
            }
            else if (beat.Collective < collective)
                late.Add($"{who} is alive but has not reached collective #{collective}: it is busy outside collectives after #{beat.Collective} at step {beat.Step} (a hang or a far slower step)");
        }
        text.Append(late.Count > 0
            ? $"Late: {string.Join("; ", late)}. Stopping the whole job."
            : "Every rank's heartbeat is fresh and at this collective: the network or the MPI runtime is stuck. Stopping the whole job.");
        return text.ToString();
    }

    private static bool ProcessAlive(int pid)
    {
        try
        {
            using var p = Process.GetProcessById(pid);
            return !p.HasExited;
        }
        catch (ArgumentException)
        {
            return false;
        }
    }

    public void Dispose()
    {
        _stop.Set();
        if (Thread.CurrentThread != _thread) _thread.Join();
        _stop.Dispose();
    }
}
