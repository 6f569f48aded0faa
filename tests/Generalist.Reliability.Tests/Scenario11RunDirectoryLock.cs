using System.Diagnostics;
using Generalist.Training;
using Generalist.Training.Loop;
using Generalist.Training.Ownership;
using Generalist.Training.Tests;
using CliChild = Generalist.Service.Tests.Cli;
using Xunit.Abstractions;
using Generalist.RunFormat;
using Generalist.TestSupport;

namespace Generalist.Reliability.Tests;

/// <summary>
/// Issue 18, scenario 11: two trainers meet in one run directory. A live trainer holds its run
/// directory's lock (<see cref="RunDirectoryLock"/>); a second `train`, `train --resume` or `--out`
/// into it, or into a directory inside it (a live run's checkpoints/step-N), is refused at once,
/// naming the holder, before it writes a byte; the live run's metrics and checkpoints are the same
/// bytes afterwards and it finishes as if alone. Before, both trained: the live run's
/// metrics.jsonl ended with the intruder's steps, and its pruning deleted the intruder's checkpoint.
/// </summary>
public class Scenario11RunDirectoryLock(ITestOutputHelper output)
{
    /// <summary>A trainer paused inside its step-<paramref name="pauseAt"/> checkpoint write, until released.</summary>
    private sealed class PausedTrainer : IDisposable
    {
        private readonly ManualResetEventSlim _paused = new(), _release = new();
        public Task<(TrainingResult Result, TrainerHarness.Events Events, List<string> Log)> Run { get; }

        public PausedTrainer(RunConfig config, string dir, long pauseAt)
        {
            var faults = new FaultInjection
            {
                CheckpointPhase = (step, phase) =>
                {
                    if (step != pauseAt || phase != "renamed") return;
                    _paused.Set();
                    _release.Wait(TimeSpan.FromMinutes(2));
                },
            };
            Run = Task.Run(() => TrainerHarness.Run(config, dir, faults: faults));
            Assert.True(_paused.Wait(TimeSpan.FromMinutes(2)) || Run.IsCompleted, "the trainer never reached its pause");
        }

        public void Release() => _release.Set();

        public void Dispose()
        {
            _release.Set();
            _paused.Dispose();
        }
    }

    private static Dictionary<string, byte[]> Snapshot(string dir) =>
        Directory.GetFiles(dir, "*", SearchOption.AllDirectories).ToDictionary(f => Path.GetRelativePath(dir, f), File.ReadAllBytes);

    private static void AssertSameBytes(Dictionary<string, byte[]> before, string dir)
    {
        var after = Snapshot(dir);
        Assert.Equal(before.Keys.Order(), after.Keys.Order());
        foreach (var (name, bytes) in before) Assert.True(bytes.AsSpan().SequenceEqual(after[name]), $"{name} changed");
    }

    [Theory]
    [InlineData(false, "")]                      // train into the same directory
    [InlineData(true, "")]                       // train --resume into it
    [InlineData(false, "checkpoints/step-5")]    // --out inside its newest checkpoint
    [InlineData(true, "checkpoints")]            // --resume inside its checkpoints directory
    public async Task A_second_trainer_into_a_live_run_directory_or_inside_it_is_refused_naming_the_holder_and_nothing_changes(bool resume, string inside)
    {
        var figures = new Figures(output, "11");
        using var dir = new TempDir("glock");
        var config = TrainerHarness.Config(10);
        using var live = new PausedTrainer(config, dir.Path, pauseAt: 5);
        var before = Snapshot(dir.Path);
        Assert.Contains("metrics.jsonl", before.Keys);
        var target = inside == "" ? dir.Path : Path.Combine(dir.Path, inside);
        var existedBefore = Directory.Exists(target);

        var clock = Stopwatch.StartNew();
        var refused = Assert.Throws<DirectoryInUseException>(() => TrainerHarness.Run(config, target, resume));
        figures.Add($"second trainer refused ({(resume ? "--resume" : "train")} {(inside == "" ? "same directory" : inside)})", clock.Elapsed.TotalMilliseconds, "ms");
        output.WriteLine(refused.Message);
        Assert.Contains($"pid {Environment.ProcessId} on {Environment.MachineName}, since ", refused.Message);
        Assert.Contains("generalist train", refused.Message);
        Assert.DoesNotContain("\n", refused.Message);
        Assert.Equal(existedBefore, Directory.Exists(target)); // not even created
        AssertSameBytes(before, dir.Path);

        live.Release();
        var (result, events, _) = await live.Run;
        Assert.Equal(TrainingOutcome.Completed, result.Outcome);
        Assert.Equal(Enumerable.Range(1, 10).Select(i => (long)i), MetricsLog.Read(Path.Combine(dir.Path, "metrics.jsonl")).Select(l => l.Step));
        Assert.Equal(Enumerable.Range(1, 10).Select(i => (long)i), events.Steps.Select(s => s.Step));
    }

    [Fact]
    public void The_lock_is_released_when_the_trainer_ends_so_resume_afterwards_works()
    {
        using var dir = new TempDir("glock");
        var first = TrainerHarness.Run(TrainerHarness.Config(5), dir.Path);
        Assert.Equal(TrainingOutcome.Completed, first.Result.Outcome);
        Assert.False(RunDirectoryLock.IsHeld(dir.Path, out _));
        var resumed = TrainerHarness.Run(TrainerHarness.Config(8), dir.Path, resume: true);
        Assert.Equal(TrainingOutcome.Completed, resumed.Result.Outcome);
        Assert.Equal(Enumerable.Range(1, 8).Select(i => (long)i), MetricsLog.Read(Path.Combine(dir.Path, "metrics.jsonl")).Select(l => l.Step));
    }

    [Fact]
    public void A_run_directory_inside_a_finished_run_or_around_a_live_one_is_refused_too_and_pruning_never_deletes_another_runs_directory()
    {
        using var dir = new TempDir("glock");
        var config = TrainerHarness.Config(10, c => c with { Checkpoint = new CheckpointConfig { Every = 5, KeepLast = 1 } });
        TrainerHarness.Run(config with { Steps = 5 }, dir.Path);
        var step5 = Path.Combine(dir.Path, "checkpoints", "step-5");
        var e = Assert.Throws<DirectoryInUseException>(() => TrainerHarness.Run(config, Path.Combine(step5, "inner")));
        Assert.Contains("not training now", e.Message);
        Assert.False(Directory.Exists(Path.Combine(step5, "inner")));

        // The other way round: a run whose checkpoints/ directory is another (live) run's.
        using (var other = new TempDir("glock-outer"))
        {
            var inner = Path.Combine(other.Path, "checkpoints");
            using var held = RunDirectoryLock.Acquire(inner);
            var outer = Assert.Throws<DirectoryInUseException>(() => TrainerHarness.Run(config, other.Path));
            Assert.Contains("is the run directory of another run (in use by generalist train (pid", outer.Message);
            Assert.Equal([RunDirectoryLock.FileName], Directory.GetFileSystemEntries(inner).Select(Path.GetFileName));
        }

        // A run directory that got there anyway (an older version did not refuse it) is kept past keep_last.
        var foreign = Directory.CreateDirectory(Path.Combine(step5, "foreign")).FullName;
        File.WriteAllText(Path.Combine(step5, RunDirectoryLock.FileName), "");
        var (result, _, log) = TrainerHarness.Run(config, dir.Path, resume: true);
        Assert.Equal(TrainingOutcome.Completed, result.Outcome);
        Assert.True(Directory.Exists(foreign));
        Assert.Contains(log, l => l.Contains("kept") && l.Contains("step-5"));
    }

    [Fact]
    public async Task For_real_generalist_train_resume_into_a_live_run_exits_2_with_one_line_naming_the_pid()
    {
        var figures = new Figures(output, "11");
        using var dir = new TempDir("glock-cli");
        var run = dir.File("run");
        var config = dir.File("run.json");
        File.WriteAllText(config, new RunConfig
        {
            Name = "live", Preset = "tiny", Tasks = [new("icl-regression")], Steps = 12, BatchSize = 2, Threads = 1, PeakFlops = 1e11,
            Checkpoint = new CheckpointConfig { Every = 4, KeepLast = 2 }, HeldOut = new HeldOutConfig { Every = 0 },
        }.ToJson());
        var marker = dir.File("paused");
        var env = new Dictionary<string, string?> { [CheckpointPauseHook.PhaseVariable] = "renamed@8", [CheckpointPauseHook.MarkerVariable] = marker };
        using var live = CliChild.Start(env, "train", "--config", config, "--out", run, "--json");
        var liveOut = live.StandardOutput.ReadToEndAsync();
        var liveErr = live.StandardError.ReadToEndAsync();
        try
        {
            var waited = Stopwatch.StartNew();
            while (!File.Exists(marker) && !live.HasExited && waited.Elapsed < TimeSpan.FromSeconds(180)) await Task.Delay(20);
            Assert.True(File.Exists(marker), $"the live run never reached step 8: {(live.HasExited ? await liveErr : "")}");
            var before = Snapshot(run);

            foreach (var (args, what) in new[]
            {
                (new[] { "train", "--config", config, "--out", run, "--resume" }, "--resume into the live run"),
                (new[] { "train", "--config", config, "--out", Path.Combine(run, "checkpoints", "step-8") }, "--out inside its step-8"),
            })
            {
                var clock = Stopwatch.StartNew();
                var (code, stdout, stderr) = CliChild.Run(null, args);
                figures.Add($"generalist train {what}: refused after (process start included)", clock.Elapsed.TotalSeconds, "s");
                output.WriteLine(stderr);
                Assert.Equal(2, code);
                var line = Assert.Single(stderr.Split('\n', StringSplitOptions.RemoveEmptyEntries));
                Assert.StartsWith("error: ", line);
                Assert.Contains($"pid {live.Id} on ", line);
                Assert.DoesNotContain("Exception", line);
                Assert.DoesNotContain("System.", line);
                AssertSameBytes(before, run);
            }
        }
        finally
        {
            File.WriteAllText(marker + CheckpointPauseHook.ReleaseSuffix, "");
            if (!live.WaitForExit(120_000)) live.Kill(true);
        }
        Assert.True(live.ExitCode == 0, await liveErr);
        Assert.Contains("\"completed\"", await liveOut);
        Assert.Equal(Enumerable.Range(1, 12).Select(i => (long)i), MetricsLog.Read(Path.Combine(run, "metrics.jsonl")).Select(l => l.Step));
    }
}
