using System.Text.Json;
using Generalist.Evaluation;
using Generalist.Evaluation.Statistics;
using Generalist.Studies.Ablation;
using Generalist.Training;
using Generalist.RunFormat;

namespace Generalist.Studies.Tests;

public class AblationStudyTests
{
    private const string Config = """
        {
          "name": "abl",
          "base": { "preset": "tiny", "steps": 20, "tasks": [ { "name": "cartpole" }, { "name": "text" } ] },
          "evaluation": { "suite": "default", "episodes": 4 },
          "ablation": {
            "variants": [
              { "name": "gato", "overrides": { "model": { "value_embedding": "none", "attention_positions": "none" }, "action_noise": 0 } },
              { "name": "rope-only", "overrides": { "model": { "value_embedding": "none" } } },
              { "name": "default" }
            ],
            "seeds": [1, 2]
          },
          "bootstrap": { "samples": 200 }
        }
        """;

    private static string Temp() => Path.Combine(Path.GetTempPath(), "ablation-" + Guid.NewGuid().ToString("N"));

    private static (StudyRunner Runner, FakeTrainer Trainer, VariantEvaluator Evaluator) Create(bool intervals)
    {
        var trainer = new FakeTrainer();
        var evaluator = new VariantEvaluator(intervals);
        var backend = new StudyBackend(new ModelRecordingTrainer(trainer), evaluator, _ => 1_000_000, (config, checkpoint) => config with { InitFrom = checkpoint });
        return (new StudyRunner(backend), trainer, evaluator);
    }

    [Fact]
    public async Task Every_variant_and_seed_is_a_sub_run_and_the_report_compares_them()
    {
        var dir = Temp();
        try
        {
            Directory.CreateDirectory(dir);
            var configPath = Path.Combine(dir, "study.json");
            File.WriteAllText(configPath, Config);
            var outDir = Path.Combine(dir, "out");
            var (runner, trainer, evaluator) = Create(intervals: false);
            var result = await runner.RunAsync(new StudyRequest("ablation", configPath, outDir), null, CancellationToken.None);

            Assert.Equal("ablation", result.Kind);
            // Seeds are the outer loop: every variant has its first seed before any has its second.
            Assert.Equal(["gato-seed1", "rope-only-seed1", "default-seed1", "gato-seed2", "rope-only-seed2", "default-seed2"], trainer.Runs);
            var gato = trainer.Configs.Single(c => c.Name == "gato-seed2");
            Assert.Equal(("none", "none", 2L), (gato.Model.ValueEmbedding, gato.Model.AttentionPositions, gato.Seed));
            var rope = trainer.Configs.Single(c => c.Name == "rope-only-seed1");
            Assert.Equal(("none", "rope", 1L), (rope.Model.ValueEmbedding, rope.Model.AttentionPositions, rope.Seed));
            Assert.All(trainer.Configs, c => Assert.Equal(20, c.Steps));
            Assert.All(evaluator.Requests, r =>
            {
                Assert.Equal(["cartpole", "text"], r.Tasks!);
                Assert.Equal(("default", 4), (r.Suite, r.Episodes));
            });
            Assert.All(result.Artifacts, a => Assert.True(File.Exists(a), a));

            // Scores: 10 + 20 (fourier) + 30 (rope) + seed; no interval in the evaluation, so the bootstrap is over seeds.
            var rows = File.ReadAllLines(Path.Combine(outDir, "ablation.csv"));
            Assert.Equal("variant,task,family,seeds,normalized_score,score_low,score_high,interval_source,seed_score_low,seed_score_high,loss,loss_low,loss_high", rows[0]);
            var gatoCartpole = rows.Single(r => r.StartsWith("gato,cartpole,", StringComparison.Ordinal)).Split(',');
            Assert.Equal(("2", "11.5", "seeds"), (gatoCartpole[3], gatoCartpole[4], gatoCartpole[7]));
            Assert.True(double.Parse(gatoCartpole[5], System.Globalization.CultureInfo.InvariantCulture) >= 11);
            Assert.True(double.Parse(gatoCartpole[6], System.Globalization.CultureInfo.InvariantCulture) <= 12);
            Assert.StartsWith("default,cartpole,control,2,61.5,", rows.Single(r => r.StartsWith("default,cartpole,", StringComparison.Ordinal)));
            Assert.StartsWith("default,text,language,2,,,,,,,", rows.Single(r => r.StartsWith("default,text,", StringComparison.Ordinal)));

            var summary = File.ReadAllLines(Path.Combine(outDir, "ablation_summary.csv"));
            Assert.StartsWith("gato,2,1,11.5,", summary[1]);
            Assert.EndsWith(",0", summary[1]);
            Assert.StartsWith("rope-only,2,1,41.5,", summary[2]);
            Assert.EndsWith(",30", summary[2]);
            Assert.Equal(1 + 6 * 2, File.ReadAllLines(Path.Combine(outDir, "ablation_seeds.csv")).Length); // header + 6 runs x 2 tasks

            var md = File.ReadAllText(result.ReportPath);
            Assert.Contains("# Ablation study: abl", md);
            Assert.Contains("3 variants × 2 seed(s) (1, 2) = 6 sub-runs", md);
            Assert.Contains("## What each variant changes relative to Gato", md);
            Assert.Contains("**gato**: Gato exact", md);
            Assert.Contains("**rope-only**: Adds rotary relative positions", md);
            Assert.Contains("**default**: Adds the Fourier value embedding", md);
            Assert.Contains("| gato | 2 | 1 | 11.5 [", md);
            Assert.Contains("| bootstrap over seeds |", md);
            Assert.Contains("| reference |", md);
            Assert.Contains("| +30 |", md);
            Assert.Contains("### cartpole", md);
            Assert.Contains("### text", md);
            Assert.Contains("| 11, 12 |", md);
            Assert.Contains("*seeds*: the evaluation result gives no interval", md);
            Assert.Contains("plots/ablation_scores.png", md);
            Assert.Contains("plots/ablation_loss.png", md);
            foreach (var ext in new[] { "png", "svg", "csv", "json" })
            {
                Assert.True(File.Exists(Path.Combine(outDir, "plots", $"ablation_scores.{ext}")), ext);
                Assert.True(File.Exists(Path.Combine(outDir, "plots", $"ablation_loss.{ext}")), ext);
            }
            Assert.True(new FileInfo(Path.Combine(outDir, "plots", "ablation_scores.png")).Length > 10_000);
            var chart = File.ReadAllLines(Path.Combine(outDir, "plots", "ablation_scores.csv"));
            Assert.Equal("group,series,value,low,high", chart[0]);
            Assert.Contains(chart, l => l.StartsWith("cartpole,default,61.5,", StringComparison.Ordinal));

            using (var json = JsonDocument.Parse(File.ReadAllText(Path.Combine(outDir, "ablation.json"))))
            {
                var variants = json.RootElement.GetProperty("variants");
                Assert.Equal(3, variants.GetArrayLength());
                Assert.Equal("none", variants[0].GetProperty("config").GetProperty("model").GetProperty("value_embedding").GetString());
                Assert.Equal(6, json.RootElement.GetProperty("runs").GetArrayLength());
            }
            Assert.True(File.Exists(Path.Combine(outDir, "runs", "gato-seed1", StudyRunner.VariantFile)));

            // Run again: nothing retrains.
            var (again, trainer2, _) = Create(intervals: false);
            await again.RunAsync(new StudyRequest("ablation", configPath, outDir), null, CancellationToken.None);
            Assert.Empty(trainer2.Runs);

            // Changing a variant under the same name is refused before anything trains (gato-seed1, made unfinished, would train first).
            File.Delete(Path.Combine(outDir, "runs", "gato-seed1", "result.json"));
            File.WriteAllText(configPath, Config.Replace("\"rope-only\", \"overrides\": { \"model\": { \"value_embedding\": \"none\" }", "\"rope-only\", \"overrides\": { \"model\": { \"value_embedding\": \"fourier\" }"));
            var (third, trainer3, _) = Create(intervals: false);
            var e = await Assert.ThrowsAsync<ConfigException>(() => third.RunAsync(new StudyRequest("ablation", configPath, outDir), null, CancellationToken.None));
            Assert.Contains("variant 'rope-only' differs from the one sub-run rope-only-seed1 was trained with", e.Message);
            Assert.Empty(trainer3.Runs);
        }
        finally
        {
            Directory.Delete(dir, true);
        }
    }

    [Fact]
    public async Task Intervals_come_from_the_evaluation_when_it_has_them_and_the_default_ladder_runs_without_variants()
    {
        var dir = Temp();
        try
        {
            Directory.CreateDirectory(dir);
            var configPath = Path.Combine(dir, "study.json");
            File.WriteAllText(configPath, """
                { "name": "ladder", "base": { "preset": "tiny", "steps": 10, "tasks": [ { "name": "cartpole" } ] },
                  "ablation": { "seeds": [5] }, "bootstrap": { "samples": 50 } }
                """);
            var outDir = Path.Combine(dir, "out");
            var (runner, trainer, _) = Create(intervals: true);
            var result = await runner.RunAsync(new StudyRequest("ablation", configPath, outDir), null, CancellationToken.None);
            var ladder = AblationPlan.DefaultLadder().Select(v => v.Name + "-seed5").ToList();
            Assert.Equal(ladder, trainer.Runs);
            var byName = trainer.Configs.ToDictionary(c => c.Name);
            Assert.Equal(("none", "none"), (byName["gato-exact-seed5"].Model.ValueEmbedding, byName["gato-exact-seed5"].Model.AttentionPositions));
            Assert.Equal(("fourier", "rope"), (byName["default-seed5"].Model.ValueEmbedding, byName["default-seed5"].Model.AttentionPositions));

            // One seed, the evaluator's per-task interval (score ± 5) as it is.
            var rows = File.ReadAllLines(Path.Combine(outDir, "ablation.csv"));
            Assert.StartsWith("gato-exact,cartpole,control,1,10,5,15,evaluation,,,", rows.Single(r => r.StartsWith("gato-exact,", StringComparison.Ordinal)));
            var summary = File.ReadAllLines(Path.Combine(outDir, "ablation_summary.csv"));
            // Mean and IQM from the evaluation's control summary, with its intervals.
            Assert.StartsWith("plus-rope,1,1,40,35,45,evaluation,39,36,42,evaluation,", summary.Single(s => s.StartsWith("plus-rope,", StringComparison.Ordinal)));
            var md = File.ReadAllText(result.ReportPath);
            Assert.Contains("No variants were given, so the study ran the default ladder", md);
            Assert.Contains("*evaluation*: the evaluator's own percentile bootstrap over the task's episodes", md);
            Assert.Contains("| evaluation (episodes) |", md);
            Assert.DoesNotContain("| per seed |", md);
        }
        finally
        {
            Directory.Delete(dir, true);
        }
    }

    [Fact]
    public void Per_seed_intervals_combine_in_quadrature_around_the_mean()
    {
        Assert.Equal(new Interval(1, 4), AblationAnalysis.Combine([2], [new Interval(1, 4)]));
        // Distances below: 3 and 4 -> sqrt(9 + 16) / 2 = 2.5; above: 6 and 8 -> 5.
        var combined = AblationAnalysis.Combine([10, 20], [new Interval(7, 16), new Interval(16, 28)]);
        Assert.Equal(12.5, combined.Low, 9);
        Assert.Equal(20, combined.High, 9);
    }

    [Fact]
    public void The_seed_bootstrap_repeats_exactly_and_needs_two_seeds()
    {
        var options = new BootstrapOptions(500, 0.95, 17);
        Assert.Null(AblationAnalysis.SeedBootstrap([3.0], options));
        var a = AblationAnalysis.SeedBootstrap([1.0, 2.0, 3.0, 10.0], options)!;
        Assert.Equal(a, AblationAnalysis.SeedBootstrap([1.0, 2.0, 3.0, 10.0], options));
        Assert.True(a.Low >= 1 && a.High <= 10 && a.Low < 4 && a.High > 4);
    }

    [Fact]
    public void The_interval_source_falls_back_from_the_evaluation_to_seeds_to_none()
    {
        var variants = StudyConfig.Parse("""{"base":{"tasks":[{"name":"cartpole"}]},"ablation":{"variants":[{"name":"a"},{"name":"b"},{"name":"c"}]}}""").AblationVariants;
        SubRunResult Run(string name, double score, bool interval)
        {
            var metrics = new Dictionary<string, double> { ["loss"] = 0.5 };
            if (interval) (metrics[AblationAnalysis.CiLow], metrics[AblationAnalysis.CiHigh]) = (score - 1, score + 1);
            var evaluation = new EvaluationResult("ckpt", "default", [new TaskScore("cartpole", "control", metrics, score)], score, 0, 0, "e.json", "e.md");
            return new SubRunResult(name, AblationPlan.Role, ["cartpole"], "tiny", 1, 1, "ckpt", 1, 1, evaluation, [], null);
        }
        var runs = new List<(string, long, SubRunResult)>
        {
            ("a", 1, Run("a-seed1", 10, true)), ("a", 2, Run("a-seed2", 20, true)),
            ("b", 1, Run("b-seed1", 10, true)), ("b", 2, Run("b-seed2", 20, false)),
            ("c", 1, Run("c-seed1", 10, false)),
        };
        var analysis = AblationAnalysis.Analyze(variants, runs, ["cartpole"], new BootstrapOptions(100));
        var rows = analysis.TaskRows.ToDictionary(r => r.Variant);
        Assert.Equal(IntervalSources.Evaluation, rows["a"].IntervalSource);
        Assert.Equal(15 - Math.Sqrt(2) / 2, rows["a"].ScoreInterval!.Low, 9);
        Assert.Equal(IntervalSources.Seeds, rows["b"].IntervalSource);
        Assert.NotNull(rows["b"].SeedInterval);
        Assert.Equal(IntervalSources.None, rows["c"].IntervalSource);
        Assert.Null(rows["c"].ScoreInterval);
        Assert.Equal([10.0], rows["c"].SeedScores);
        // The summary's mean has no control summary here: bootstrap over seeds, or none for one seed.
        var summary = analysis.Summary.ToDictionary(s => s.Variant);
        Assert.Equal(IntervalSources.Seeds, summary["a"].MeanIntervalSource);
        Assert.Equal(IntervalSources.None, summary["c"].MeanIntervalSource);
        Assert.Null(summary["a"].Iqm);
        Assert.Equal(-5, summary["c"].DifferenceFromReference);
    }
}

/// <summary>Writes the run's model options and seed into its checkpoint so the evaluator can score the variant.</summary>
internal sealed class ModelRecordingTrainer(FakeTrainer inner) : ITrainer
{
    public async Task<TrainingResult> RunAsync(RunConfig config, string runDirectory, bool resume, IProgress<TrainingEvent>? progress, CancellationToken cancellationToken)
    {
        var result = await inner.RunAsync(config, runDirectory, resume, progress, cancellationToken);
        File.WriteAllText(Path.Combine(result.LastCheckpoint!, "variant"), $"{config.Model.ValueEmbedding} {config.Model.AttentionPositions} {config.Seed}");
        return result;
    }
}

/// <summary>
/// Scores a checkpoint by its variant: cartpole 10 + 20 (fourier) + 30 (rope) + seed; text has a
/// loss only. With intervals, the task carries the evaluator's interval (score ± 5) and the result a
/// control summary (mean ± 5, IQM = score − 1 ± 3), as the real evaluator's bootstrap gives them.
/// </summary>
internal sealed class VariantEvaluator(bool intervals) : IEvaluator
{
    public List<EvaluationRequest> Requests { get; } = [];

    public Task<EvaluationResult> EvaluateAsync(EvaluationRequest request, IProgress<EvaluationProgress>? progress, CancellationToken cancellationToken)
    {
        Requests.Add(request);
        var parts = File.ReadAllText(Path.Combine(request.CheckpointPath, "variant")).Split(' ');
        var score = 10 + (parts[0] == "fourier" ? 20 : 0) + (parts[1] == "rope" ? 30 : 0) + (intervals ? 0 : long.Parse(parts[2]));
        var tasks = (request.Tasks ?? ["cartpole"]).Select(t =>
        {
            var metrics = new Dictionary<string, double> { ["loss"] = t == "text" ? 2.0 : 0.5 - score / 1000.0 };
            if (t == "cartpole" && intervals) (metrics[AblationAnalysis.CiLow], metrics[AblationAnalysis.CiHigh]) = (score - 5, score + 5);
            return new TaskScore(t, t == "text" ? "language" : "control", metrics, t == "cartpole" ? score : null);
        }).ToList();
        var control = intervals
            ? new ControlSummary(request.Episodes, request.Episodes, false, null, "greedy", 1, score, new Interval(score - 5, score + 5), score - 1,
                new Interval(score - 4, score + 2), score >= 50 ? 1 : 0, score >= 80 ? 1 : 0, 1000, 17)
            : null;
        var md = Path.Combine(request.CheckpointPath, "evaluation.md");
        File.WriteAllText(md, "# evaluation");
        return Task.FromResult(new EvaluationResult(request.CheckpointPath, request.Suite, tasks, score, score >= 50 ? 1 : 0, score >= 80 ? 1 : 0,
            Path.Combine(request.CheckpointPath, "evaluation.json"), md, control));
    }
}
