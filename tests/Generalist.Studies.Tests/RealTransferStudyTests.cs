using System.Text.Json;

namespace Generalist.Studies.Tests;

/// <summary>
/// A tiny transfer study through the real trainer and evaluator (the default backend), on two task
/// families that need no download (cartpole expert rollouts, generated in-context regression).
/// </summary>
public class RealTransferStudyTests
{
    private const string Config = """
        {
          "name": "real-tiny",
          "base": { "preset": "ladder-0", "steps": 6, "batch_size": 2, "threads": 1, "episodes_per_task": 4, "min_timesteps_per_task": 0, "peak_flops": 1e11,
                    "tasks": [ { "name": "cartpole" }, { "name": "icl-regression" } ],
                    "checkpoint": { "every": 0, "keep_last": 1 }, "held_out": { "every": 3, "batches": 1 } },
          "evaluation": { "suite": "default", "episodes": 1 },
          "transfer": { "families": { "control": ["cartpole"], "in-context": ["icl-regression"] }, "finetune_steps": 4 },
          "bootstrap": { "samples": 20 }
        }
        """;

    [Fact]
    [Trait("Category", "Slow")]
    public async Task Fine_tuning_starts_from_the_leave_one_out_weights_and_writes_the_curves()
    {
        var dir = Directory.CreateTempSubdirectory("real-transfer").FullName;
        try
        {
            var configPath = Path.Combine(dir, "study.json");
            File.WriteAllText(configPath, Config);
            var result = await StudyRunner.CreateDefault().RunAsync(new StudyRequest("transfer", configPath, Path.Combine(dir, "out")), null, CancellationToken.None);

            var fine = JsonSerializer.Deserialize<SubRunResult>(File.ReadAllText(Path.Combine(dir, "out", "runs", "without-control-finetuned", "result.json")),
                Evaluation.Reporting.AtomicFiles.Json)!;
            var leaveOut = JsonSerializer.Deserialize<SubRunResult>(File.ReadAllText(Path.Combine(dir, "out", "runs", "without-control", "result.json")),
                Evaluation.Reporting.AtomicFiles.Json)!;
            Assert.Equal(leaveOut.Checkpoint, fine.InitializedFrom);
            using (var state = JsonDocument.Parse(File.ReadAllText(Path.Combine(fine.Checkpoint, "trainer_state.json"))))
            {
                Assert.Equal(leaveOut.Checkpoint, state.RootElement.GetProperty("config").GetProperty("init_from").GetString());
                Assert.Equal(4, state.RootElement.GetProperty("step").GetInt64());
            }
            // The fine-tuned and the scratch run share the seed, so the same random init: their step-0
            // held-out losses differ only because the fine-tuned run loaded other weights.
            var scratch = JsonSerializer.Deserialize<SubRunResult>(File.ReadAllText(Path.Combine(dir, "out", "runs", "scratch-control", "result.json")),
                Evaluation.Reporting.AtomicFiles.Json)!;
            Assert.NotEqual(scratch.HeldOutCurve.First(p => p.Step == 0).Loss, fine.HeldOutCurve.First(p => p.Step == 0).Loss);

            var curves = File.ReadAllLines(Path.Combine(dir, "out", "finetune_curves.csv"));
            Assert.Contains(curves, l => l.StartsWith("control,cartpole,without-control-finetuned,fine_tuned,0,", StringComparison.Ordinal));
            Assert.Contains(curves, l => l.StartsWith("in-context,icl-regression,scratch-in-context,scratch,4,", StringComparison.Ordinal));
            foreach (var family in new[] { "control", "in-context" })
            foreach (var ext in new[] { "png", "svg", "csv", "json" })
                Assert.True(File.Exists(Path.Combine(dir, "out", "plots", $"finetune_{family}.{ext}")), $"finetune_{family}.{ext}");
            var md = File.ReadAllText(result.ReportPath);
            Assert.Contains("## Fine-tuning curves (left-out family)", md);
            Assert.DoesNotContain("Fine-tuning runs were skipped", md);
        }
        finally
        {
            Directory.Delete(dir, true);
        }
    }
}
