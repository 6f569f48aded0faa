using System.Diagnostics;
using Generalist.Training;
using Generalist.Training.Loop;
using Generalist.Training.Tests;
using Xunit.Abstractions;
using Generalist.RunFormat.Checkpointing;
using Generalist.TestSupport;

namespace Generalist.Reliability.Tests;

/// <summary>Issue 10, scenario 2: a truncated or bit-flipped checkpoint is detected by its checksum, named, and resume falls back to the previous good one.</summary>
public class Scenario02CorruptCheckpoint(ITestOutputHelper output)
{
    [Theory]
    [InlineData("truncate", CheckpointStore.ModelFile)]
    [InlineData("bitflip", CheckpointStore.OptimizerFile)]
    [InlineData("bitflip", CheckpointStore.ModelFile)]
    public void A_corrupt_newest_checkpoint_is_named_and_resume_falls_back(string damage, string file)
    {
        using var dir = new TempDir();
        var config = TrainerHarness.Config(10);
        TrainerHarness.Run(config, dir.Path);
        var target = Path.Combine(dir.Path, "checkpoints", "step-10", file);
        var bytes = File.ReadAllBytes(target);
        if (damage == "truncate") bytes = bytes[..^7];
        else bytes[^5] ^= 0x01;
        File.WriteAllBytes(target, bytes);

        var clock = Stopwatch.StartNew();
        var e = Assert.Throws<InvalidDataException>(() => CheckpointStore.Validate(new CheckpointInfo(10, Path.GetDirectoryName(target)!)));
        var detect = clock.Elapsed;
        Assert.StartsWith(target, e.Message);
        var size = Directory.GetFiles(Path.GetDirectoryName(target)!).Sum(f => new FileInfo(f).Length);
        new Figures(output, "2").Add($"time to detect a {damage} of {file}", detect.TotalMilliseconds, "ms",
            $"checkpoint of {size / 1024.0:F0} KiB; error: {e.Message[(target.Length + 2)..]}");

        var (result, events, log) = TrainerHarness.Run(config with { Steps = 12 }, dir.Path, resume: true);
        Assert.Contains(log, l => l.Contains("skipped a corrupt checkpoint") && l.Contains(target));
        Assert.Contains(log, l => l.Contains("resumed from") && l.EndsWith("step 5"));
        Assert.Equal(TrainingOutcome.Completed, result.Outcome);
        Assert.Equal(6, events.Steps[0].Step);
    }
}
