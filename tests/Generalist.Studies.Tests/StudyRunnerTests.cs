using Generalist.Training;
using Generalist.RunFormat;

namespace Generalist.Studies.Tests;

public class StudyRunnerTests
{
    private static readonly Dictionary<string, long> Sizes = new() { ["ladder-0"] = 60_000, ["ladder-1"] = 150_000, ["ladder-2"] = 450_000, ["ladder-3"] = 1_000_000, ["ladder-4"] = 3_000_000, ["tiny"] = 1_000_000 };

    private const string Config = """
        {
          "name": "t",
          "base": { "preset": "tiny", "steps": 40, "tasks": [ { "name": "cartpole" }, { "name": "text" } ] },
          "evaluation": { "suite": "default", "episodes": 3 },
          "transfer": { "families": { "control": ["cartpole"], "language": ["text"] }, "finetune_steps": 20 },
          "scaling": { "presets": ["ladder-0", "ladder-1", "ladder-2", "ladder-3", "ladder-4"] },
          "bootstrap": { "samples": 50 }
        }
        """;

    private static (StudyRunner Runner, FakeTrainer Trainer, FakeEvaluator Evaluator) Create()
    {
        var trainer = new FakeTrainer();
        var evaluator = new FakeEvaluator(p => Sizes[p]);
        // The fake trainer cannot know the preset, so the fine-tune hook and the checkpoint marker carry it.
        var backend = new StudyBackend(new PresetRecordingTrainer(trainer), evaluator, p => Sizes.TryGetValue(p, out var n) ? n : throw new ArgumentException($"unknown model preset '{p}'"),
            (config, checkpoint) => config with { InitFrom = checkpoint });
        return (new StudyRunner(backend), trainer, evaluator);
    }

    private static string Temp() => Path.Combine(Path.GetTempPath(), "study-" + Guid.NewGuid().ToString("N"));

    [Fact]
    public async Task TransferStudyRunsEveryRoleWritesTheReportAndResumesWithoutRetraining()
    {
        var dir = Temp();
        try
        {
            Directory.CreateDirectory(dir);
            var configPath = Path.Combine(dir, "study.json");
            File.WriteAllText(configPath, Config);
            var (runner, trainer, evaluator) = Create();
            var result = await runner.RunAsync(new StudyRequest("transfer", configPath, Path.Combine(dir, "out")), null, CancellationToken.None);
            Assert.Equal(
                ["generalist", "specialist-cartpole", "specialist-text", "without-control", "without-control-finetuned", "scratch-control",
                 "without-language", "without-language-finetuned", "scratch-language"], trainer.Runs);
            Assert.Equal(20, trainer.Configs.Single(c => c.Name == "without-control-finetuned").Steps);
            Assert.Equal(["cartpole"], trainer.Configs.Single(c => c.Name == "without-control-finetuned").Tasks.Select(t => t.Name));
            Assert.All(evaluator.Requests, r => Assert.Equal(["cartpole", "text"], r.Tasks!));
            // Each fine-tuning run starts from its leave-one-out generalist's final checkpoint; nothing else does.
            var fine = trainer.Configs.Single(c => c.Name == "without-control-finetuned");
            Assert.Equal(Path.Combine(dir, "out", "runs", "without-control", "checkpoints", "step-40"), fine.InitFrom);
            Assert.Equal(2, fine.HeldOut.Every);
            Assert.All(trainer.Configs.Where(c => !c.Name.EndsWith("-finetuned", StringComparison.Ordinal)), c => Assert.Null(c.InitFrom));
            // The fine-tuning curves: one chart per left-out family with the fine-tuned and from-scratch series, and every point in one CSV.
            var chartCsv = File.ReadAllText(Path.Combine(dir, "out", "plots", "finetune_control.csv"));
            Assert.Contains("fine-tuned (pre-trained without control)", chartCsv);
            Assert.Contains("from scratch, same steps", chartCsv);
            Assert.Contains("specialist after 40 steps", chartCsv);
            var curves = File.ReadAllLines(Path.Combine(dir, "out", "finetune_curves.csv"));
            Assert.Equal("family,task,run,role,step,loss", curves[0]);
            Assert.Contains("control,cartpole,without-control-finetuned,fine_tuned,20,", string.Join("\n", curves));
            Assert.Contains("language,text,scratch-language,scratch,10,", string.Join("\n", curves));
            Assert.Equal(2 * 2 * 2 + 1, curves.Length); // 2 families x (fine-tuned + scratch) x steps 10, 20
            var md = File.ReadAllText(result.ReportPath);
            Assert.Contains("| cartpole | control | normalized_score ↑", md);
            Assert.Contains("plots/heatmap_loss.png", md);
            Assert.Contains("plots/finetune_control.png", md);
            Assert.All(result.Artifacts, a => Assert.True(File.Exists(a), a));

            // A second run finds every sub-run finished and trains nothing.
            var (again, trainer2, _) = Create();
            await again.RunAsync(new StudyRequest("transfer", configPath, Path.Combine(dir, "out")), null, CancellationToken.None);
            Assert.Empty(trainer2.Runs);

            // Removing one sub-run's checkpoint makes exactly that sub-run run again.
            Directory.Delete(Path.Combine(dir, "out", "runs", "specialist-text", "checkpoints"), true);
            var (third, trainer3, _) = Create();
            await third.RunAsync(new StudyRequest("transfer", configPath, Path.Combine(dir, "out")), null, CancellationToken.None);
            Assert.Equal(["specialist-text"], trainer3.Runs);
        }
        finally
        {
            Directory.Delete(dir, true);
        }
    }

    [Fact]
    public async Task ScalingStudyFitsTheLawAcrossSizes()
    {
        var dir = Temp();
        try
        {
            Directory.CreateDirectory(dir);
            var configPath = Path.Combine(dir, "study.json");
            File.WriteAllText(configPath, Config);
            var (runner, trainer, _) = Create();
            var result = await runner.RunAsync(new StudyRequest("scaling", configPath, Path.Combine(dir, "out")), null, CancellationToken.None);
            Assert.Equal(5, trainer.Runs.Count);
            var rows = Scaling.ScalingResultsCsv.Load(Path.Combine(dir, "out", "results.csv"));
            Assert.Equal(10, rows.Count);
            Assert.Equal(40_000, rows[0].Tokens);
            var fits = File.ReadAllText(Path.Combine(dir, "out", "scaling_fits.json"));
            Assert.Contains("\"alpha\": 0.3", fits);
            Assert.Contains("loss_vs_params_text.png", File.ReadAllText(result.ReportPath));
        }
        finally
        {
            Directory.Delete(dir, true);
        }
    }

    [Fact]
    public async Task TooNarrowALadderIsRejectedBeforeTraining()
    {
        var dir = Temp();
        try
        {
            Directory.CreateDirectory(dir);
            var configPath = Path.Combine(dir, "study.json");
            File.WriteAllText(configPath, Config.Replace("\"ladder-0\", \"ladder-1\", \"ladder-2\", \"ladder-3\", \"ladder-4\"", "\"ladder-1\", \"ladder-2\", \"ladder-3\", \"tiny\""));
            var (runner, trainer, _) = Create();
            var e = await Assert.ThrowsAsync<ConfigException>(() => runner.RunAsync(new StudyRequest("scaling", configPath, Path.Combine(dir, "out")), null, CancellationToken.None));
            Assert.Contains("scaling.presets: span 0.82 decades", e.Message);
            Assert.Empty(trainer.Runs);
        }
        finally
        {
            Directory.Delete(dir, true);
        }
    }
}

/// <summary>Records the preset in the checkpoint so the fake evaluator can give size-dependent losses.</summary>
internal sealed class PresetRecordingTrainer(FakeTrainer inner) : ITrainer
{
    public async Task<TrainingResult> RunAsync(RunConfig config, string runDirectory, bool resume, IProgress<TrainingEvent>? progress, CancellationToken cancellationToken)
    {
        var result = await inner.RunAsync(config, runDirectory, resume, progress, cancellationToken);
        File.WriteAllText(Path.Combine(result.LastCheckpoint!, "preset"), config.Preset);
        return result;
    }
}
