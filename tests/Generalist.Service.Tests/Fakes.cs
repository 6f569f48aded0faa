using System.Collections.Concurrent;
using System.Text.Json;
using Generalist.Evaluation;
using Generalist.Studies;
using Generalist.Training;
using Generalist.RunFormat;

namespace Generalist.Service.Tests;

/// <summary>
/// A trainer double with the real contract: numbered steps with deterministic losses, metrics.jsonl,
/// checkpoints written to a temporary name and renamed, a checkpoint on cancellation, and resume
/// from the newest checkpoint. Steps can be held back with <see cref="Gate"/>.
/// </summary>
public sealed class FakeTrainer : ITrainer
{
    public TimeSpan StepDelay { get; set; } = TimeSpan.FromMilliseconds(1);
    /// <summary>When set, each step waits for one release.</summary>
    public SemaphoreSlim? Gate { get; set; }
    public ConcurrentQueue<(string Run, bool Resume, long StartStep)> Calls { get; } = new();
    public string? FailWith { get; set; }
    /// <summary>Awaited before the first step (a test can hold a run until someone watches it).</summary>
    public Func<RunConfig, Task>? BeforeStart { get; set; }
    public const int TokensPerSequence = 64;

    public static double LossAt(long seed, long step, int task) => 4.0 * Math.Exp(-step / 40.0) + 0.1 * task + 0.01 * (seed % 7);

    public async Task<TrainingResult> RunAsync(RunConfig config, string runDirectory, bool resume, IProgress<TrainingEvent>? progress, CancellationToken cancellationToken)
    {
        var checkpoints = Path.Combine(runDirectory, "checkpoints");
        Directory.CreateDirectory(checkpoints);
        long start = 0;
        string? last = null;
        if (resume && Newest(checkpoints) is { } newest)
        {
            start = newest.Step;
            last = newest.Path;
        }
        Calls.Enqueue((config.Name, resume, start));
        if (BeforeStart is { } before) await before(config);
        if (FailWith is { } failure) return new TrainingResult(TrainingOutcome.Failed, start, last, failure);
        var tokensPerStep = (long)config.BatchSize * config.GradAccum * TokensPerSequence;
        var step = start;
        try
        {
            while (step < config.Steps)
            {
                cancellationToken.ThrowIfCancellationRequested();
                if (Gate is { } gate) await gate.WaitAsync(cancellationToken);
                else if (StepDelay > TimeSpan.Zero) await Task.Delay(StepDelay, cancellationToken);
                step++;
                var taskLoss = config.Tasks.Select((t, i) => (t.Name, LossAt(config.Seed, step, i))).ToDictionary(p => p.Name, p => p.Item2);
                var loss = taskLoss.Values.Average();
                var e = new StepCompleted(step, config.Steps, loss, taskLoss, 1e-3, 0.5, step * tokensPerStep, 1000, 0.01, 0.001, 0.002, 0.003, 0.001, false);
                await File.AppendAllTextAsync(Path.Combine(runDirectory, "metrics.jsonl"), JsonSerializer.Serialize(new { step, loss }) + "\n", CancellationToken.None);
                progress?.Report(e);
                if (config.Checkpoint.Every > 0 && step % config.Checkpoint.Every == 0) last = Write(checkpoints, step, tokensPerStep, progress);
            }
        }
        catch (OperationCanceledException) when (cancellationToken.IsCancellationRequested)
        {
            if (step > start) last = Write(checkpoints, step, tokensPerStep, progress);
            return new TrainingResult(TrainingOutcome.Cancelled, step, last, null);
        }
        if (last is null || !last.EndsWith($"step-{step}", StringComparison.Ordinal)) last = Write(checkpoints, step, tokensPerStep, progress);
        return new TrainingResult(TrainingOutcome.Completed, step, last, null);
    }

    private static string Write(string checkpoints, long step, long tokensPerStep, IProgress<TrainingEvent>? progress)
    {
        var final = Path.Combine(checkpoints, $"step-{step}");
        var temp = Path.Combine(checkpoints, $".tmp-step-{step}");
        Directory.CreateDirectory(temp);
        File.WriteAllBytes(Path.Combine(temp, "model.safetensors"), new byte[256]);
        File.WriteAllText(Path.Combine(temp, "trainer_state.json"), JsonSerializer.Serialize(new { step, tokens_seen = step * tokensPerStep }));
        if (Directory.Exists(final)) Directory.Delete(final, true);
        Directory.Move(temp, final);
        progress?.Report(new CheckpointWritten(step, final));
        return final;
    }

    private static (long Step, string Path)? Newest(string checkpoints) =>
        Directory.EnumerateDirectories(checkpoints, "step-*")
            .Select(d => (Step: long.TryParse(Path.GetFileName(d)["step-".Length..], out var s) ? s : -1, Path: d))
            .Where(p => p.Step >= 0)
            .OrderByDescending(p => p.Step)
            .Select(p => ((long, string)?)p)
            .FirstOrDefault();
}

/// <summary>An evaluator double: scores derived from the checkpoint's step, reports per task.</summary>
public sealed class FakeEvaluator : IEvaluator
{
    public ConcurrentQueue<EvaluationRequest> Requests { get; } = new();

    public async Task<EvaluationResult> EvaluateAsync(EvaluationRequest request, IProgress<Generalist.Evaluation.EvaluationProgress>? progress, CancellationToken cancellationToken)
    {
        Requests.Enqueue(request);
        if (!Directory.Exists(request.CheckpointPath)) throw new DirectoryNotFoundException($"checkpoint not found: {request.CheckpointPath}");
        string[] tasks = ["cartpole", "text"];
        var scores = new List<TaskScore>();
        for (var i = 0; i < tasks.Length; i++)
        {
            await Task.Delay(5, cancellationToken);
            progress?.Report(new Generalist.Evaluation.EvaluationProgress(tasks[i], i + 1, tasks.Length));
            scores.Add(new TaskScore(tasks[i], i == 0 ? "control" : "language", new Dictionary<string, double> { ["return"] = 100 + i }, i == 0 ? 62.5 : null));
        }
        var json = Path.Combine(request.CheckpointPath, $"eval-{request.Suite}.json");
        await File.WriteAllTextAsync(json, "{}", cancellationToken);
        return new EvaluationResult(request.CheckpointPath, request.Suite, scores, 62.5, 1, 0, json, Path.ChangeExtension(json, ".md"));
    }
}

public sealed class FakeStudyRunner : IStudyRunner
{
    public async Task<StudyResult> RunAsync(StudyRequest request, IProgress<Generalist.Studies.StudyProgress>? progress, CancellationToken cancellationToken)
    {
        for (var i = 1; i <= 3; i++)
        {
            await Task.Delay(5, cancellationToken);
            progress?.Report(new Generalist.Studies.StudyProgress("sub-runs", i, 3));
        }
        var report = Path.Combine(request.OutputDirectory, "report.md");
        await File.WriteAllTextAsync(report, $"# {request.Kind}\n", cancellationToken);
        return new StudyResult(request.Kind, request.OutputDirectory, report, [report]);
    }
}
