using System.Diagnostics;
using System.Reflection;
using System.Runtime.InteropServices;
using Generalist.Distributed;
using Generalist.Service.Kernel;
using Generalist.Training;
using Generalist.Training.Ownership;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Options;
using Generalist.RunFormat;
using Generalist.RunFormat.Checkpointing;

namespace Generalist.Service.Jobs;

/// <summary>
/// Runs a training run as a distributed job: the launcher (Service:Launcher, or the run's own
/// distributed.launcher where Service:AllowRunLauncher permits) starts distributed.ranks copies of
/// `generalist train --config &lt;run&gt;/run.json --out &lt;run&gt;` as child processes. The service
/// follows rank 0's metrics.jsonl and checkpoints (<see cref="RunFollower"/>) and every rank's
/// status file (&lt;run&gt;/distributed/heartbeat/rank-N.json). Cancelling writes the run's stop file
/// (<see cref="StopRequest"/>): the ranks agree on a step, checkpoint and exit; SIGTERM to the
/// launcher follows when that did not end the job, a kill after the grace period. The launcher's
/// output goes to &lt;run&gt;/launcher.log. Same contract as <see cref="ITrainer"/>.
/// </summary>
public sealed partial class LaunchedTrainer(IOptions<ServiceOptions> options, ILogger<LaunchedTrainer> log)
{
    public const string ConfigFile = "run.json";
    public const string LogFile = "launcher.log";
    public static readonly TimeSpan PollInterval = TimeSpan.FromMilliseconds(200);
    private const int SigTerm = 15;

    /// <summary>The launcher template a run uses; throws a ConfigException naming the field when it may not or cannot be used.</summary>
    public string TemplateFor(RunConfig config)
    {
        var own = config.Distributed.Launcher;
        if (own is not null && !options.Value.AllowRunLauncher)
            throw new ConfigException("distributed.launcher",
                "distributed.launcher: this service does not accept a launcher per run (it would run a program of the client's choice); " +
                "leave it out to use the service's launcher, or start the service with Service:AllowRunLauncher=true");
        var template = own ?? options.Value.Launcher;
        var problems = MpiLauncher.Problems(template);
        if (problems.Count > 0) throw new ConfigException("distributed.launcher", $"distributed.launcher: {string.Join("; ", problems)}");
        return template;
    }

    /// <summary>The argument vector that starts the run's ranks.</summary>
    public IReadOnlyList<string> Command(RunConfig config, string runDirectory, bool resume)
    {
        var program = TrainProgram();
        var train = program.Concat(["train", "--config", Path.Combine(runDirectory, ConfigFile), "--out", runDirectory]).ToList();
        if (resume) train.Add("--resume");
        return MpiLauncher.Render(TemplateFor(config), config.Distributed.Ranks, train);
    }

    private List<string> TrainProgram()
    {
        var configured = MpiLauncher.Split(options.Value.TrainProgram ?? "");
        if (configured.Count > 0) return configured;
        // This program: its apphost, or dotnet plus the entry assembly (`dotnet generalist.dll serve`).
        var path = Environment.ProcessPath ?? "dotnet";
        return Path.GetFileNameWithoutExtension(path) == "dotnet" ? [path, Assembly.GetEntryAssembly()!.Location] : [path];
    }

    public async Task<TrainingResult> RunAsync(RunConfig config, string runDirectory, bool resume, IProgress<TrainingEvent> progress, CancellationToken ct)
    {
        Directory.CreateDirectory(runDirectory);
        var argv = Command(config, runDirectory, resume);
        // A job of an earlier service may still train here (its lease not yet lapsed): touch nothing.
        RunDirectoryLock.RefuseIfHeld(runDirectory);
        WriteConfig(config, runDirectory);
        // Status files of an earlier attempt (perhaps with more ranks) would read as this job's.
        var heartbeats = Heartbeat.DirectoryOf(runDirectory);
        if (Directory.Exists(heartbeats))
            foreach (var f in Directory.GetFiles(heartbeats, "rank-*.json")) File.Delete(f);
        StopRequest.Clear(runDirectory);

        var store = new CheckpointStore(new CheckpointOptions(Path.Combine(runDirectory, "checkpoints"), int.MaxValue));
        var follower = new RunFollower(runDirectory, config.Steps, progress, resume ? store.List().LastOrDefault()?.Step ?? 0 : 0);
        var grace = TimeSpan.FromSeconds(options.Value.ShutdownGraceSeconds);
        var start = new ProcessStartInfo(argv[0]) { UseShellExecute = false, RedirectStandardOutput = true, RedirectStandardError = true, RedirectStandardInput = true };
        foreach (var a in argv.Skip(1)) start.ArgumentList.Add(a);
        start.Environment["TERM"] = "dumb";
        // The ranks stop by themselves if this service dies and stops renewing the lease (no orphans).
        var lease = LeasePath(runDirectory);
        ServiceLease.Renew(lease);
        var renewed = DateTime.UtcNow;
        start.Environment[ServiceLease.FileVariable] = lease;
        start.Environment[ServiceLease.SecondsVariable] = options.Value.LeaseSeconds.ToString(System.Globalization.CultureInfo.InvariantCulture);
        // mpirun answers SIGTERM by passing it on to the ranks and kills them after this many
        // seconds (default 1): the ranks need up to a step and a checkpoint to stop cleanly. At
        // 60 s Open MPI 4.1 was seen not to pass SIGTERM on at all (the stop file covers that),
        // at 15-30 s it did.
        if (MpiLauncher.IsOpenMpi(argv[0]))
            start.Environment["OMPI_MCA_odls_base_sigkill_timeout"] = ((int)Math.Min(grace.TotalSeconds, 30)).ToString();

        using var output = new LauncherOutput(Path.Combine(runDirectory, LogFile), string.Join(' ', argv));
        using var process = new Process { StartInfo = start };
        process.OutputDataReceived += (_, e) => output.Line(e.Data);
        process.ErrorDataReceived += (_, e) => output.Line(e.Data);
        try
        {
            process.Start();
        }
        catch (System.ComponentModel.Win32Exception e)
        {
            throw new InvalidOperationException($"could not start the launcher '{argv[0]}' ({e.Message}); install Open MPI (apt-get install openmpi-bin) or set Service:Launcher");
        }
        process.StandardInput.Close();
        process.BeginOutputReadLine();
        process.BeginErrorReadLine();
        Telemetry.Log.Launched(log, Path.GetFileName(runDirectory), config.Distributed.Ranks, string.Join(' ', argv), process.Id);

        // Cancel: first the stop file, which every rank sees at its next step (they agree on a
        // step, checkpoint and exit 0, and the launcher ends by itself). SIGTERM to the launcher
        // only when that has not ended the job after a while (a rank that cannot see the file or
        // is stuck): Open MPI 4.1's mpirun, its output on a pipe, was seen to pass SIGTERM on late
        // or not at all and then not to exit after its ranks had. Last, after the grace period, kill.
        var signalAfter = TimeSpan.FromSeconds(Math.Min(grace.TotalSeconds / 2, 30));
        DateTime? stopAsked = null;
        var sigtermSent = false;
        var exited = process.WaitForExitAsync(CancellationToken.None);
        while (!exited.IsCompleted)
        {
            await Task.WhenAny(exited, Task.Delay(PollInterval, CancellationToken.None));
            follower.Poll();
            if (DateTime.UtcNow - renewed > LeaseRenewal)
            {
                TryRenew(lease, output);
                renewed = DateTime.UtcNow;
            }
            if (process.HasExited) break;
            if (ct.IsCancellationRequested && stopAsked is null)
            {
                stopAsked = DateTime.UtcNow;
                StopRequest.Write(runDirectory, "cancelled through the service");
                output.Line($"[service] cancel: wrote {StopRequest.PathFor(runDirectory)}; the ranks stop at their next step with a checkpoint");
            }
            else if (stopAsked is { } asked && !sigtermSent && DateTime.UtcNow - asked > signalAfter)
            {
                sigtermSent = true;
                output.Line($"[service] the job has not stopped {signalAfter.TotalSeconds:F0} s after the stop request: SIGTERM to the launcher (pid {process.Id})");
                if (Kill(process.Id, SigTerm) != 0) output.Line($"[service] SIGTERM failed (errno {Marshal.GetLastPInvokeError()})");
            }
            else if (stopAsked is { } since && DateTime.UtcNow - since > grace + signalAfter)
            {
                output.Line($"[service] the job did not stop within {(grace + signalAfter).TotalSeconds:F0} s of the stop request; killing it");
                process.Kill(entireProcessTree: true);
            }
        }
        await exited;
        process.WaitForExit(); // drains the redirected output
        follower.Poll();
        var ended = DateTimeOffset.UtcNow.ToUnixTimeMilliseconds();
        return Outcome(process.ExitCode, stopAsked is not null, config, runDirectory, store, follower, output, ended);
    }

    /// <summary>The lease file the ranks watch (<see cref="ServiceLease"/>).</summary>
    public static string LeasePath(string runDirectory) => Path.Combine(runDirectory, "distributed", "lease");

    public static readonly TimeSpan LeaseRenewal = TimeSpan.FromSeconds(1);

    private static void TryRenew(string lease, LauncherOutput output)
    {
        try
        {
            ServiceLease.Renew(lease);
        }
        catch (IOException e)
        {
            // The ranks stop once it lapses; say why here, where the job's output goes.
            output.Line($"[service] could not renew the lease {lease}: {e.Message}");
        }
    }

    private static void WriteConfig(RunConfig config, string runDirectory)
    {
        var path = Path.Combine(runDirectory, ConfigFile);
        var temp = path + ".tmp";
        File.WriteAllText(temp, config.ToJson());
        File.Move(temp, path, overwrite: true);
    }

    /// <summary>How the job ended, from the ranks' own status files first and the launcher's exit code and output second.</summary>
    internal static TrainingResult Outcome(int exitCode, bool signalled, RunConfig config, string runDirectory, CheckpointStore store,
        RunFollower follower, LauncherOutput output, long endedUnixMs)
    {
        var beats = Heartbeat.ReadAll(Heartbeat.DirectoryOf(runDirectory));
        var last = store.List().LastOrDefault()?.Path;
        var root = beats.FirstOrDefault(b => b.Rank == 0);
        var step = Math.Max(follower.LastStep, root?.Step ?? 0);
        var failed = beats.Where(b => b.State == Heartbeat.Failed).ToList();
        if (exitCode == 0 && failed.Count == 0 && root is { State: Heartbeat.Completed })
            return new TrainingResult(TrainingOutcome.Completed, step, last, null);
        // After SIGTERM mpirun may exit non-zero even though every rank stopped cleanly.
        if (failed.Count == 0 && (root?.State == Heartbeat.Cancelled || (signalled && exitCode == 0)))
            return new TrainingResult(TrainingOutcome.Cancelled, step, last, null);
        return new TrainingResult(TrainingOutcome.Failed, step, last, FailureReason(exitCode, config.Distributed.Ranks, beats, runDirectory, output, endedUnixMs));
    }

    /// <summary>One paragraph naming each rank that failed or stopped short, and the launcher's own words about it.</summary>
    internal static string FailureReason(int exitCode, int ranks, IReadOnlyList<Heartbeat> beats, string runDirectory, LauncherOutput output, long? endedUnixMs = null)
    {
        var parts = new List<string>();
        // Every live rank refreshes its status file a few times per timeout until the job ends, so
        // of the ranks that did not finish, one whose file went quiet well before the others'
        // died (or froze) first: the others were only stopped after it.
        var open = beats.Where(b => !b.HasEnded).ToList();
        var end = endedUnixMs ?? DateTimeOffset.UtcNow.ToUnixTimeMilliseconds();
        var newest = open.Count > 0 ? open.Max(b => b.UpdatedUnixMs) : 0;
        bool WentQuietFirst(Heartbeat b) => open.Count > 1 && newest - b.UpdatedUnixMs > QuietMargin.TotalMilliseconds;
        for (var r = 0; r < ranks; r++)
        {
            var beat = beats.FirstOrDefault(b => b.Rank == r);
            if (beat is null)
            {
                parts.Add($"rank {r} never reported (no status file; it did not start or died before joining the job)");
                continue;
            }
            var who = $"rank {r} (pid {beat.Pid} on {beat.Host})";
            if (beat.State == Heartbeat.Failed) parts.Add($"{who} failed at step {beat.Step}: {beat.Detail}");
            else if (!beat.HasEnded)
            {
                var quiet = WentQuietFirst(beat)
                    ? $"; it went silent first, {(end - beat.UpdatedUnixMs) / 1000.0:F1} s before the job ended: it died or froze" : "";
                parts.Add($"{who} stopped at step {beat.Step} without finishing (state {beat.State}{(beat.InCollective ? $", inside collective '{beat.Operation}'" : "")}){quiet}");
            }
        }
        // The culprit first.
        parts = parts.OrderBy(p => p.Contains("went silent first", StringComparison.Ordinal) || p.Contains(" failed at step", StringComparison.Ordinal) ? 0 : 1).ToList();
        var said = output.Tail.Where(l => l.Contains("rank", StringComparison.OrdinalIgnoreCase) || l.Contains("watchdog", StringComparison.OrdinalIgnoreCase)
            || l.StartsWith("error", StringComparison.OrdinalIgnoreCase)).TakeLast(3).ToList();
        var text = $"the launcher exited with code {exitCode}";
        if (parts.Count > 0) text += ": " + string.Join("; ", parts);
        if (said.Count > 0) text += ". Launcher output: " + string.Join(" | ", said);
        return text + $". Full output: {Path.Combine(runDirectory, LogFile)}";
    }

    /// <summary>How much earlier than the others a rank's status must have stopped to count as the one that died first (several heartbeat intervals).</summary>
    public static readonly TimeSpan QuietMargin = TimeSpan.FromSeconds(3);

    [LibraryImport("libc", EntryPoint = "kill", SetLastError = true)]
    private static partial int Kill(int pid, int signal);

    /// <summary>The launcher's stdout and stderr, appended to launcher.log, the last lines kept for the failure reason.</summary>
    internal sealed class LauncherOutput : IDisposable
    {
        private const int Keep = 40;
        private readonly StreamWriter _writer;
        private readonly Queue<string> _tail = new();
        private readonly Lock _gate = new();

        public LauncherOutput(string path, string commandLine)
        {
            _writer = new StreamWriter(new FileStream(path, FileMode.Append, FileAccess.Write, FileShare.Read)) { AutoFlush = true };
            _writer.WriteLine($"[service] {DateTime.UtcNow:O} launching: {commandLine}");
        }

        public IReadOnlyList<string> Tail
        {
            get { lock (_gate) return _tail.ToList(); }
        }

        public void Line(string? line)
        {
            if (line is null) return;
            lock (_gate)
            {
                _writer.WriteLine(line);
                _tail.Enqueue(line);
                while (_tail.Count > Keep) _tail.Dequeue();
            }
        }

        public void Dispose()
        {
            lock (_gate) _writer.Dispose();
        }
    }
}
