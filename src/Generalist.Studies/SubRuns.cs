using System.Text.Json;
using Generalist.Evaluation;
using Generalist.Evaluation.Reporting;
using Generalist.Training;
using Generalist.RunFormat;

namespace Generalist.Studies;

/// <summary>Held-out loss of one task at one step of a sub-run (from the trainer's HeldOutEvaluated events).</summary>
public sealed record CurvePoint(long Step, string Task, double Loss);

/// <summary>Everything a finished sub-run produced; saved as runs/NAME/result.json, which marks it done.</summary>
public sealed record SubRunResult(
    string Name,
    string Role,
    IReadOnlyList<string> Tasks,
    string Preset,
    int Steps,
    long Seed,
    string Checkpoint,
    long TokensSeen,
    long NonEmbeddingParameters,
    EvaluationResult Evaluation,
    IReadOnlyList<CurvePoint> HeldOutCurve,
    string? InitializedFrom);

/// <summary>What a study needs from the rest of the system; <see cref="StudyRunner.CreateDefault"/> wires the real ones.</summary>
/// <param name="AnalyseIcl">The in-context analysis of one checkpoint (behaviour, probes, MovieLens); null = the study kind icl is unavailable.</param>
public sealed record StudyBackend(
    ITrainer Trainer,
    IEvaluator Evaluator,
    Func<string, long> NonEmbeddingParameters,
    Func<RunConfig, string, RunConfig>? StartFromCheckpoint,
    Func<string, Evaluation.InContext.IclAnalysisOptions, CancellationToken, Evaluation.InContext.IclCheckpointResult>? AnalyseIcl = null);

/// <summary>Runs one sub-run (train, evaluate, record) unless its result file and final checkpoint already exist.</summary>
internal sealed class SubRunExecutor(StudyBackend backend, string studyDirectory, StudyConfig study, IProgress<StudyProgress>? progress)
{
    public const string ResultFile = "result.json";
    public const string CurveFile = "heldout.jsonl";

    public string RunDirectory(string name) => Path.Combine(studyDirectory, "runs", name);

    /// <summary>A sub-run is finished when its result file parses and its checkpoint is complete.</summary>
    public SubRunResult? TryLoadFinished(string name)
    {
        var path = Path.Combine(RunDirectory(name), ResultFile);
        if (!File.Exists(path)) return null;
        try
        {
            var result = JsonSerializer.Deserialize<SubRunResult>(File.ReadAllText(path), AtomicFiles.Json);
            if (result is null || !IsCompleteCheckpoint(result.Checkpoint)) return null;
            return result;
        }
        catch (JsonException)
        {
            return null;
        }
    }

    public static bool IsCompleteCheckpoint(string? dir) =>
        dir is not null && File.Exists(Path.Combine(dir, "model.safetensors")) && File.Exists(Path.Combine(dir, "trainer_state.json"));

    public async Task<SubRunResult> RunAsync(string name, string role, RunConfig config, string? initFrom, IReadOnlyList<string> evaluateTasks, int index, int total, CancellationToken ct)
    {
        if (TryLoadFinished(name) is { } done)
        {
            progress?.Report(new StudyProgress("skip", index, total, $"{name}: finished earlier ({done.Checkpoint})"));
            return done;
        }
        var dir = RunDirectory(name);
        Directory.CreateDirectory(dir);
        config = config with { Name = name };
        if (initFrom is not null)
        {
            if (backend.StartFromCheckpoint is null)
                throw new InvalidOperationException($"{name}: the trainer cannot start from a checkpoint's weights, so fine-tuning is not possible");
            config = backend.StartFromCheckpoint(config, initFrom);
        }
        progress?.Report(new StudyProgress("train", index, total, $"{name}: {string.Join("+", config.Tasks.Select(t => t.Name))}, {config.Preset}, {config.Steps} steps"));
        var curvePath = Path.Combine(dir, CurveFile);
        var events = new Progress<TrainingEvent>();
        var curveLock = new object();
        void OnEvent(TrainingEvent e)
        {
            if (e is not HeldOutEvaluated h) return;
            // Appended as it arrives so a resumed run keeps the curve of its earlier part.
            var lines = h.TaskLoss.Select(kv => JsonSerializer.Serialize(new CurvePoint(h.Step, kv.Key, kv.Value), AtomicFiles.Json).ReplaceLineEndings(" "));
            lock (curveLock) File.AppendAllLines(curvePath, lines);
        }
        var result = await backend.Trainer.RunAsync(config, dir, resume: true, new SynchronousProgress<TrainingEvent>(OnEvent), ct);
        if (result.Outcome != TrainingOutcome.Completed || !IsCompleteCheckpoint(result.LastCheckpoint))
            throw new InvalidOperationException($"{name}: training {result.Outcome.ToString().ToLowerInvariant()}{(result.FailureReason is null ? "" : ": " + result.FailureReason)}");
        var checkpoint = result.LastCheckpoint!;
        progress?.Report(new StudyProgress("evaluate", index, total, $"{name}: {checkpoint}"));
        var evaluation = await backend.Evaluator.EvaluateAsync(
            new EvaluationRequest(checkpoint, study.Evaluation.Suite, study.Evaluation.Episodes, study.Evaluation.Seed, Tasks: evaluateTasks),
            null, ct);
        var sub = new SubRunResult(name, role, config.Tasks.Select(t => t.Name).ToList(), config.Preset, config.Steps, config.Seed, checkpoint,
            ReadTokensSeen(checkpoint, config), backend.NonEmbeddingParameters(config.Preset), evaluation, ReadCurve(curvePath), initFrom);
        AtomicFiles.WriteJson(Path.Combine(dir, ResultFile), sub);
        progress?.Report(new StudyProgress("done", index + 1, total, name));
        return sub;
    }

    /// <summary>tokens_seen from the checkpoint's trainer_state.json; steps x batch x accumulation x context if absent.</summary>
    private static long ReadTokensSeen(string checkpoint, RunConfig config)
    {
        try
        {
            using var doc = JsonDocument.Parse(File.ReadAllText(Path.Combine(checkpoint, "trainer_state.json")));
            if (doc.RootElement.TryGetProperty("tokens_seen", out var t) && t.TryGetInt64(out var tokens) && tokens > 0) return tokens;
        }
        catch (JsonException)
        {
        }
        return (long)config.Steps * config.BatchSize * config.GradAccum * Math.Max(config.ContextLength, 1);
    }

    private static List<CurvePoint> ReadCurve(string path)
    {
        if (!File.Exists(path)) return [];
        return File.ReadAllLines(path).Where(l => l.Trim().Length > 0)
            .Select(l => JsonSerializer.Deserialize<CurvePoint>(l, AtomicFiles.Json)!)
            .GroupBy(p => (p.Step, p.Task)).Select(g => g.Last())
            .OrderBy(p => p.Step).ThenBy(p => p.Task, StringComparer.Ordinal).ToList();
    }
}
