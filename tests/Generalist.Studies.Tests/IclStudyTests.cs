using Generalist.Datasets.Sets;
using Generalist.Evaluation.InContext;
using Generalist.Episodes;
using Generalist.RunFormat;

namespace Generalist.Studies.Tests;

/// <summary>`generalist study icl`: base trained once (or a checkpoint taken), the analysis run on it, the report written.</summary>
public class IclStudyTests
{
    private const string Config = """
        {
          "name": "icl-t",
          "base": { "preset": "tiny", "steps": 20, "tasks": [ { "name": "icl-regression" } ],
                    "icl_regression": { "dimension": 2, "pairs": 6, "noise_std": 0.5 } },
          "icl": { "prompts": 16, "tuning_prompts": 8, "probe_prompts": 12 },
          "bootstrap": { "samples": 50 }
        }
        """;

    /// <summary>A real behaviour analysis of a stand-in model (it always predicts 0) and fixed probe numbers: what the report is built from.</summary>
    private static IclCheckpointResult Synthetic(string checkpoint, IclAnalysisOptions options)
    {
        var task = new IclRegressionOptions(Dimension: 2, Pairs: 6, NoiseStd: 0.5);
        IReadOnlyList<double[]> Zero(IReadOnlyList<Episode> episodes) => episodes.Select(e => new double[e.Timesteps.Count]).ToList();
        var behaviour = IclRegressionEvaluation.Run(1, task, 1000, e => e.Timesteps.Count * 4 + 1, Zero, options.Behaviour);
        var probes = new ProbeReport([IclProbes.WOls], 3, 8, 4, 40, 20, 1e-3, 4242,
            [new(IclProbes.WOls, 0, 0.1, 0.05), new(IclProbes.WOls, 1, 0.5, 0.06), new(IclProbes.WOls, 2, 0.9, 0.04)]);
        return new IclCheckpointResult(checkpoint, "icl", "tiny", 20, ["icl-regression"], task, behaviour, probes, null, null, null);
    }

    [Fact]
    public async Task Base_is_trained_once_evaluated_on_the_icl_suite_and_the_report_has_every_part()
    {
        var dir = Directory.CreateTempSubdirectory("icl-study").FullName;
        try
        {
            var configPath = Path.Combine(dir, "study.json");
            File.WriteAllText(configPath, Config);
            var trainer = new FakeTrainer();
            var evaluator = new FakeEvaluator(_ => 1_000_000);
            var calls = new List<(string Checkpoint, IclAnalysisOptions Options)>();
            IclCheckpointResult Analyse(string checkpoint, IclAnalysisOptions options, CancellationToken _)
            {
                calls.Add((checkpoint, options));
                return Synthetic(checkpoint, options);
            }
            var runner = new StudyRunner(new StudyBackend(trainer, evaluator, _ => 1_000_000, null, Analyse));
            var output = Path.Combine(dir, "out");
            var result = await runner.RunAsync(new StudyRequest(StudyKinds.Icl, configPath, output), null, CancellationToken.None);
            Assert.Equal(["icl"], trainer.Runs);
            Assert.Equal("icl", evaluator.Requests.Single().Suite);
            Assert.Equal(Path.Combine(output, "runs", "icl", "checkpoints", "step-20"), calls.Single().Checkpoint);
            Assert.Equal(16, calls.Single().Options.Behaviour.Prompts);
            Assert.Equal(12, calls.Single().Options.ProbePrompts);
            var report = File.ReadAllText(result.ReportPath);
            Assert.Contains("## Summary", report);
            Assert.Contains("## Probes", report);
            Assert.Contains("random", report);
            foreach (var file in new[] { "icl.json", "icl.csv", "probes.csv", "icl_study.json", "plots/icl_mse_vs_k_in_distribution.png",
                                         "plots/icl_agreement_in_distribution.png", "plots/probes_r2_per_layer.png" })
                Assert.True(File.Exists(Path.Combine(output, file)), file);
            Assert.Contains("in_distribution,agreement,least_squares,3,", File.ReadAllText(Path.Combine(output, "icl.csv")));
            // Run again: the finished sub-run is not trained again.
            await runner.RunAsync(new StudyRequest(StudyKinds.Icl, configPath, output), null, CancellationToken.None);
            Assert.Single(trainer.Runs);
            // A given checkpoint is analysed as it is: no training at all.
            var given = Path.Combine(dir, "given");
            Directory.CreateDirectory(given);
            File.WriteAllText(configPath, Config.Replace("\"probe_prompts\": 12", "\"probe_prompts\": 12, \"checkpoint\": \"given\""));
            var fresh = new FakeTrainer();
            await new StudyRunner(new StudyBackend(fresh, evaluator, _ => 1_000_000, null, Analyse)).RunAsync(new StudyRequest(StudyKinds.Icl, configPath, Path.Combine(dir, "out2")), null, CancellationToken.None);
            Assert.Empty(fresh.Runs);
            Assert.Equal(given, calls[^1].Checkpoint);
        }
        finally
        {
            Directory.Delete(dir, true);
        }
    }

    [Fact]
    [Trait("Category", "Slow")]
    public async Task A_real_tiny_run_is_trained_evaluated_and_probed_beside_its_random_init_control()
    {
        const string real = """
            {
              "name": "real-icl",
              "base": { "preset": "ladder-0", "steps": 6, "batch_size": 4, "context_length": 64, "threads": 1, "peak_flops": 1e11,
                        "tasks": [ { "name": "icl-regression" } ], "icl_regression": { "dimension": 2, "pairs": 6, "noise_std": 0.5 },
                        "checkpoint": { "every": 0, "keep_last": 1 }, "held_out": { "every": 0, "batches": 1 } },
              "icl": { "prompts": 24, "tuning_prompts": 8, "probe_prompts": 24 },
              "bootstrap": { "samples": 50 }
            }
            """;
        var dir = Directory.CreateTempSubdirectory("real-icl").FullName;
        try
        {
            var configPath = Path.Combine(dir, "study.json");
            File.WriteAllText(configPath, real);
            var output = Path.Combine(dir, "out");
            var result = await StudyRunner.CreateDefault().RunAsync(new StudyRequest(StudyKinds.Icl, configPath, output), null, CancellationToken.None);
            using var doc = System.Text.Json.JsonDocument.Parse(File.ReadAllText(Path.Combine(output, "icl_study.json")));
            // 12 pairs of 4 tokens fit the 64-token context: all four conditions.
            Assert.Equal(4, doc.RootElement.GetProperty("behaviour").GetProperty("conditions").GetArrayLength());
            // (2 blocks + embedding) x (w_ols, xty, ridge, gd_1..3): each with a finite R^2 for the model and the control.
            var probes = doc.RootElement.GetProperty("probes").GetProperty("results");
            Assert.Equal(3 * 6, probes.GetArrayLength());
            Assert.All(probes.EnumerateArray(), r => Assert.True(double.IsFinite(r.GetProperty("r2").GetDouble()) && double.IsFinite(r.GetProperty("control_r2").GetDouble())));
            Assert.Contains("## Probes", File.ReadAllText(result.ReportPath));
            Assert.True(File.Exists(Path.Combine(output, "runs", "icl", "checkpoints", "step-6", "icl-icl.json")));
        }
        finally
        {
            Directory.Delete(dir, true);
        }
    }

    [Theory]
    [InlineData("\"icl\": { \"prompts\": 16, \"probe_prompts\": 20 }", "icl.probe_prompts: must be at most icl.prompts = 16 (got 20)")]
    [InlineData("\"icl\": { \"probe_ridge\": 0 }", "icl.probe_ridge: must be in (0, 100] (got 0)")]
    [InlineData("\"icl\": { \"prompts\": 1936, \"tuning_prompts\": 100 }", "icl.tuning_prompts: icl.prompts + icl.tuning_prompts must be at most the 2000 held-out functions (got 2036)")]
    public void Bad_icl_fields_are_refused_naming_the_field(string section, string expected)
    {
        var json = $$"""{ "base": { "tasks": [ { "name": "icl-regression" } ] }, {{section}} }""";
        var e = Assert.Throws<Generalist.RunFormat.ConfigException>(() => StudyConfig.Parse(json));
        Assert.Contains(expected, e.Message);
    }
}
