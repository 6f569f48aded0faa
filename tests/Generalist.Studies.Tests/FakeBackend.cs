using Generalist.Evaluation;
using Generalist.Training;
using Generalist.RunFormat;

namespace Generalist.Studies.Tests;

/// <summary>
/// A trainer that writes a complete checkpoint and held-out events without torch, and an evaluator
/// whose losses follow a known power law in the preset size: enough to test the study's planning,
/// resumption and reports quickly. The real trainer and evaluator are exercised by the Slow tests.
/// </summary>
internal sealed class FakeTrainer : ITrainer
{
    public List<string> Runs { get; } = [];
    public List<RunConfig> Configs { get; } = [];

    public Task<TrainingResult> RunAsync(RunConfig config, string runDirectory, bool resume, IProgress<TrainingEvent>? progress, CancellationToken cancellationToken)
    {
        Runs.Add(config.Name);
        Configs.Add(config);
        for (var step = 10; step <= config.Steps; step += 10)
            progress?.Report(new HeldOutEvaluated(step, config.Tasks.ToDictionary(t => t.Name, _ => 3.0 / Math.Sqrt(step))));
        var dir = Path.Combine(runDirectory, "checkpoints", $"step-{config.Steps}");
        Directory.CreateDirectory(dir);
        File.WriteAllText(Path.Combine(dir, "model.safetensors"), "weights");
        File.WriteAllText(Path.Combine(dir, "trainer_state.json"), $"{{\"tokens_seen\": {config.Steps * 1000}}}");
        return Task.FromResult(new TrainingResult(TrainingOutcome.Completed, config.Steps, dir, null));
    }
}

internal sealed class FakeEvaluator(Func<string, long> parameters) : IEvaluator
{
    public List<EvaluationRequest> Requests { get; } = [];

    public Task<EvaluationResult> EvaluateAsync(EvaluationRequest request, IProgress<EvaluationProgress>? progress, CancellationToken cancellationToken)
    {
        Requests.Add(request);
        var state = File.ReadAllText(Path.Combine(request.CheckpointPath, "trainer_state.json"));
        var preset = File.Exists(Path.Combine(request.CheckpointPath, "preset")) ? File.ReadAllText(Path.Combine(request.CheckpointPath, "preset")) : "tiny";
        var n = parameters(preset);
        var tasks = (request.Tasks ?? ["cartpole", "text"]).Select(t =>
        {
            var loss = (t == "text" ? 2.0 : 0.5) + 40 * Math.Pow(n, -0.3) + state.Length * 1e-4;
            double? score = t == "cartpole" ? 100 / (1 + Math.Exp((loss - 1.2) / 0.3)) : null;
            return new TaskScore(t, t == "text" ? "language" : "control", new Dictionary<string, double> { ["loss"] = loss }, score);
        }).ToList();
        var md = Path.Combine(request.CheckpointPath, "evaluation.md");
        File.WriteAllText(md, "# evaluation");
        return Task.FromResult(new EvaluationResult(request.CheckpointPath, request.Suite, tasks, tasks.Average(t => t.NormalizedScore), 0, 0,
            Path.Combine(request.CheckpointPath, "evaluation.json"), md));
    }
}
