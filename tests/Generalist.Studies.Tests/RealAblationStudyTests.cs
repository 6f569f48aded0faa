using System.Text.Json;

namespace Generalist.Studies.Tests;

/// <summary>A tiny ablation through the real trainer and evaluator: two variants, one seed, cartpole only.</summary>
public class RealAblationStudyTests
{
    private const string Config = """
        {
          "name": "real-ablation",
          "base": { "preset": "ladder-0", "steps": 4, "batch_size": 2, "threads": 1, "episodes_per_task": 4, "min_timesteps_per_task": 0, "peak_flops": 1e11,
                    "tasks": [ { "name": "cartpole" } ],
                    "checkpoint": { "every": 0, "keep_last": 1 }, "held_out": { "every": 0, "batches": 1 } },
          "evaluation": { "suite": "control", "episodes": 3 },
          "ablation": {
            "variants": [
              { "name": "gato-exact", "overrides": { "model": { "value_embedding": "none", "attention_positions": "none" }, "action_noise": 0 } },
              { "name": "default" }
            ],
            "seeds": [1]
          },
          "bootstrap": { "samples": 20 }
        }
        """;

    [Fact]
    [Trait("Category", "Slow")]
    public async Task Each_variant_trains_the_model_it_names_and_the_report_uses_the_evaluators_intervals()
    {
        var dir = Directory.CreateTempSubdirectory("real-ablation").FullName;
        try
        {
            var configPath = Path.Combine(dir, "study.json");
            File.WriteAllText(configPath, Config);
            var result = await StudyRunner.CreateDefault().RunAsync(new StudyRequest("ablation", configPath, Path.Combine(dir, "out")), null, CancellationToken.None);

            foreach (var (run, valueEmbedding, positions) in new[] { ("gato-exact-seed1", "none", "none"), ("default-seed1", "fourier", "rope") })
            {
                var sub = JsonSerializer.Deserialize<SubRunResult>(File.ReadAllText(Path.Combine(dir, "out", "runs", run, "result.json")), Evaluation.Reporting.AtomicFiles.Json)!;
                using var state = JsonDocument.Parse(File.ReadAllText(Path.Combine(sub.Checkpoint, "trainer_state.json")));
                var model = state.RootElement.GetProperty("config").GetProperty("model");
                Assert.Equal(valueEmbedding, model.GetProperty("value_embedding").GetString());
                Assert.Equal(positions, model.GetProperty("attention_positions").GetString());
                Assert.NotNull(sub.Evaluation.Tasks.Single(t => t.Task == "cartpole").NormalizedScore);
            }
            var rows = File.ReadAllLines(Path.Combine(dir, "out", "ablation.csv"));
            Assert.Equal(3, rows.Length);
            // The real evaluator gives a per-task bootstrap interval over episodes, so the report uses it.
            Assert.All(rows.Skip(1), r => Assert.Equal("evaluation", r.Split(',')[7]));
            Assert.True(File.Exists(Path.Combine(dir, "out", "plots", "ablation_scores.png")));
            Assert.Contains("**gato-exact**: Gato exact", File.ReadAllText(result.ReportPath));
        }
        finally
        {
            Directory.Delete(dir, true);
        }
    }
}
