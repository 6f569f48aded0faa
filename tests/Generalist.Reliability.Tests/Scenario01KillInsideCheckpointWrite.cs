using System.Diagnostics;
using System.Text.Json;
using Generalist.Service.Tests;
using CliChild = Generalist.Service.Tests.Cli;
using Generalist.Training;
using Generalist.Training.Loop;
using Generalist.Training.Tests;
using Xunit.Abstractions;
using Generalist.RunFormat;
using Generalist.RunFormat.Checkpointing;
using Generalist.TestSupport;

namespace Generalist.Reliability.Tests;

/// <summary>
/// Issue 10, scenario 1: a crash inside a checkpoint write. In-process, an exception at each write
/// phase; for real, SIGKILL of a `generalist train` child held at an exact phase by the
/// CheckpointPauseHook. Either way the previous checkpoint stays intact and is what resume loads,
/// no partial checkpoint is listed, temporary files are removed on the next start, and the resumed
/// run has exactly the losses of a run that was never killed.
/// </summary>
public class Scenario01KillInsideCheckpointWrite(ITestOutputHelper output)
{
    private sealed class SimulatedCrash(string phase) : Exception($"simulated crash at {phase}");

    private const int Steps = 12;
    private const int KillAtStep = 8;
    private static readonly Lazy<double[]> ReferenceLosses = new(RunUninterrupted);

    [Theory]
    [InlineData("model-data-written")]
    [InlineData("model-written")]
    [InlineData("optimizer-written")]
    [InlineData("state-written")]
    public void A_crash_inside_a_checkpoint_write_keeps_the_previous_one_and_resume_loads_it(string phase)
    {
        using var dir = new TempDir();
        var config = TrainerHarness.Config(12);
        var faults = new FaultInjection { CheckpointPhase = (step, p) => { if (step == 10 && p == phase) throw new SimulatedCrash(p); } };
        Assert.Throws<SimulatedCrash>(() => TrainerHarness.Run(config, dir.Path, faults: faults));

        var checkpoints = Path.Combine(dir.Path, "checkpoints");
        var store = new CheckpointStore(new CheckpointOptions(checkpoints, 3));
        Assert.Equal([0L, 5], store.List().Select(c => c.Step)); // the partial step-10 is never listed
        Assert.NotEmpty(Directory.GetDirectories(checkpoints, ".tmp-*"));

        var (result, events, log) = TrainerHarness.Run(config, dir.Path, resume: true);
        Assert.Contains(log, l => l.Contains("removed incomplete checkpoint"));
        Assert.Contains(log, l => l.Contains("resumed from") && l.EndsWith("step 5"));
        Assert.Empty(Directory.GetDirectories(checkpoints, ".tmp-*"));
        Assert.Equal(TrainingOutcome.Completed, result.Outcome);
        Assert.Equal(6, events.Steps[0].Step);
    }


    [Theory]
    [InlineData("model-data-written")]
    [InlineData("optimizer-written")]
    [InlineData("state-written")]
    [InlineData("renamed")]
    public async Task Kill_9_of_a_training_process_inside_a_checkpoint_write_loses_nothing(string phase)
    {
        var figures = new Figures(output, "1");
        var reference = ReferenceLosses.Value;
        using var dir = new TempDir("gkill9");
        var (config, run) = WriteConfig(dir);
        var marker = dir.File("paused-at-checkpoint");
        var env = new Dictionary<string, string?>
        {
            [CheckpointPauseHook.PhaseVariable] = $"{phase}@{KillAtStep}",
            [CheckpointPauseHook.MarkerVariable] = marker,
        };
        using (var victim = CliChild.Start(env, "train", "--config", config, "--out", run, "--json"))
        {
            var stderr = victim.StandardError.ReadToEndAsync();
            _ = victim.StandardOutput.ReadToEndAsync();
            var waited = Stopwatch.StartNew();
            while (!File.Exists(marker) && !victim.HasExited && waited.Elapsed < TimeSpan.FromSeconds(180)) await Task.Delay(20);
            Assert.True(File.Exists(marker), $"the child never reached {phase}@{KillAtStep} (exited: {victim.HasExited}): {(victim.HasExited ? await stderr : "")}");
            Assert.Contains($"phase={phase} step={KillAtStep}", await File.ReadAllTextAsync(marker));
            var killed = Stopwatch.StartNew();
            victim.Kill(); // SIGKILL: no handler, no finally block, no flush runs
            Assert.True(victim.WaitForExit(30_000));
            figures.Add($"kill -9 at {phase}: process gone after", killed.Elapsed.TotalMilliseconds, "ms");
            Assert.Equal(137, victim.ExitCode); // 128 + SIGKILL
        }

        var checkpoints = Path.Combine(run, "checkpoints");
        var store = new CheckpointStore(new CheckpointOptions(checkpoints, 2));
        // Pruning (keep_last 2) runs after the rename, so a kill at "renamed" leaves three complete ones.
        long[] expected = phase == "renamed" ? [0, 4, 8] : [0, 4];
        Assert.Equal(expected, store.List().Select(c => c.Step));
        foreach (var c in store.List()) CheckpointStore.Validate(c); // every listed one is whole
        var leftovers = Directory.GetFileSystemEntries(checkpoints, ".tmp-*");
        Assert.Equal(phase == "renamed" ? 0 : 1, leftovers.Length); // the partial one exists on disk, unlisted

        var clock = Stopwatch.StartNew();
        var resumed = CliChild.Run(null, "train", "--config", config, "--out", run, "--resume", "--json");
        Assert.True(resumed.ExitCode == 0, resumed.Stderr);
        figures.Add($"resume after kill at {phase}: wall time to step {Steps}", clock.Elapsed.TotalSeconds, "s");
        using (var result = JsonDocument.Parse(resumed.Stdout))
            Assert.Equal("completed", result.RootElement.GetProperty("outcome").GetString());
        Assert.Contains($"resumed from {Path.Combine(checkpoints, $"step-{expected[^1]}")} at step {expected[^1]}", resumed.Stderr);
        if (leftovers.Length > 0) Assert.Contains($"removed incomplete checkpoint {leftovers[0]}", resumed.Stderr);
        Assert.Empty(Directory.GetFileSystemEntries(checkpoints, "*.tmp*", SearchOption.AllDirectories));
        Assert.Equal([8L, 12], store.List().Select(c => c.Step));

        var lines = MetricsLog.Read(Path.Combine(run, "metrics.jsonl"));
        Assert.Equal(Enumerable.Range(1, Steps).Select(i => (long)i), lines.Select(l => l.Step));
        Assert.Equal(reference, lines.Select(l => l.Loss)); // bit-exact: the kill changed nothing
    }

    [Fact]
    public void The_pause_hook_is_off_unless_both_variables_are_set_and_refuses_malformed_values_naming_the_variable()
    {
        Assert.Same(FaultInjection.None, CheckpointPauseHook.Parse(null, null));
        Assert.Same(FaultInjection.None, CheckpointPauseHook.Parse("", ""));
        foreach (var (phase, marker) in new[] { ("renamed@8", (string?)null), (null, "/tmp/m"), ("renamed", "/tmp/m"), ("nowhere@3", "/tmp/m"), ("renamed@-1", "/tmp/m"), ("renamed@x", "/tmp/m") })
        {
            var e = Assert.Throws<ConfigException>(() => CheckpointPauseHook.Parse(phase, marker));
            Assert.Equal(CheckpointPauseHook.PhaseVariable, e.Field);
            Assert.Contains(CheckpointPauseHook.PhaseVariable, e.Message);
        }
        Assert.NotNull(CheckpointPauseHook.Parse("model-data-written@0", "/tmp/m").CheckpointPhase);
    }

    /// <summary>A small real run: the tiny preset on in-context regression, one thread, checkpoints every 4 steps.</summary>
    private static (string Config, string Run) WriteConfig(TempDir dir)
    {
        var config = new RunConfig
        {
            Name = "kill9",
            Preset = "tiny",
            Tasks = [new("icl-regression")],
            Steps = Steps,
            BatchSize = 2,
            Threads = 1,
            PeakFlops = 1e11, // MFU needs a denominator; measuring it would add a second per process
            Checkpoint = new CheckpointConfig { Every = 4, KeepLast = 2 },
            HeldOut = new HeldOutConfig { Every = 0 },
        };
        var path = dir.File("run.json");
        File.WriteAllText(path, config.ToJson());
        return (path, dir.File("run"));
    }

    private static double[] RunUninterrupted()
    {
        using var dir = new TempDir("gkill9-ref");
        var (config, run) = WriteConfig(dir);
        var r = CliChild.Run(null, "train", "--config", config, "--out", run, "--json");
        Assert.True(r.ExitCode == 0, r.Stderr);
        return MetricsLog.Read(Path.Combine(run, "metrics.jsonl")).Select(l => l.Loss).ToArray();
    }
}
