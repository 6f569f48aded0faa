using System.Text.Json;

namespace Generalist.Cli.Tests;

/// <summary>`generalist train --init-from`: fine-tuning from another run's checkpoint, and the error for one that does not fit.</summary>
public class TrainInitFromTests
{
    private static readonly Dictionary<string, string?> Env = new() { ["GENERALIST_PEAK_FLOPS"] = "1e11" };

    private static (int, string, string) Train(string dir, string preset, params string[] extra) =>
        CliProcess.Run(Env, ["train", "--preset", preset, "--tasks", "icl-regression", "--steps", "2", "--batch-size", "2", "--out", dir, "--json", .. extra]);

    [Fact]
    public void A_run_fine_tunes_from_another_runs_checkpoint_and_a_checkpoint_of_another_size_is_exit_2_naming_init_from()
    {
        var root = Directory.CreateTempSubdirectory("cli-init-from").FullName;
        try
        {
            var source = Path.Combine(root, "source");
            var (code, stdout, stderr) = Train(source, "ladder-0");
            Assert.True(code == 0, stderr);
            var sourceCheckpoint = JsonDocument.Parse(stdout).RootElement.GetProperty("last_checkpoint").GetString()!;

            // A run directory is accepted and resolves to its newest checkpoint.
            (code, stdout, stderr) = Train(Path.Combine(root, "fine"), "ladder-0", "--init-from", source);
            Assert.True(code == 0, stderr);
            var fineCheckpoint = JsonDocument.Parse(stdout).RootElement.GetProperty("last_checkpoint").GetString()!;
            using var state = JsonDocument.Parse(File.ReadAllText(Path.Combine(fineCheckpoint, "trainer_state.json")));
            Assert.Equal(Path.GetFullPath(source), state.RootElement.GetProperty("config").GetProperty("init_from").GetString());
            Assert.Equal(2, state.RootElement.GetProperty("step").GetInt64());
            Assert.Equal(2, state.RootElement.GetProperty("optimizer_steps").GetInt64());

            (code, _, stderr) = Train(Path.Combine(root, "wider"), "ladder-1", "--init-from", sourceCheckpoint);
            Assert.Equal(2, code);
            var line = Assert.Single(stderr.Trim().Split('\n'));
            Assert.Contains("init_from: ", line);
            Assert.Matches("tensor '[^']+' has shape \\[[0-9, ]+\\] but the model \\(preset 'ladder-1'\\) expects", line);
        }
        finally
        {
            Directory.Delete(root, true);
        }
    }
}
