using System.Text.Json;
using Generalist.Evaluation;
using Generalist.Service.Kernel;
using Generalist.Service.Registry;
using Generalist.Service.Scheduling;
using Generalist.Service.Security;
using Generalist.Service.Telemetry;
using Microsoft.Extensions.Logging;

namespace Generalist.Service.Jobs;

/// <summary>
/// What a client asks for when it creates an evaluation; empty and zero fields take their
/// defaults. Exactly one of <see cref="Checkpoint"/> (a path under the data root) and <see cref="Run"/>.
/// </summary>
public sealed record NewEvaluation(string Name, string Checkpoint, string Run, string Suite, int Episodes, long Seed);

/// <summary>Evaluations of a checkpoint on a suite through <see cref="IEvaluator"/>, in the same queue as runs.</summary>
/// <param name="evaluator">The evaluator (Hosting registers it); without one, creating an evaluation is FAILED_PRECONDITION.</param>
public sealed class EvaluationManager(
    RunRegistry registry,
    JobScheduler scheduler,
    EventHub<JobEvent<EvaluationRecord>> hub,
    GeneralistTelemetry telemetry,
    DataLayout layout,
    TimeProvider clock,
    ILogger<EvaluationManager> log,
    IEvaluator? evaluator = null)
{
    public const int DefaultEpisodes = 50;
    public const int MaxEpisodes = 100_000;

    private readonly QueuedJobs<EvaluationRecord, Generalist.Evaluation.EvaluationProgress> _jobs = new(new(
        Name: "evaluation",
        SetState: registry.SetEvaluationState,
        SaveProgress: registry.UpdateEvaluationProgress,
        Describe: p => (p.Task, p.Done, p.Total, null),
        Tag: r => new("suite", r.Suite),
        Work: async (record, progress, ct) =>
        {
            var request = new EvaluationRequest(layout.ToAbsolute(record.Checkpoint), record.Suite, record.Episodes, record.Seed);
            var result = await (evaluator ?? throw NotInstalled()).EvaluateAsync(request, progress, ct);
            telemetry.RecordEvaluation(result);
            return JsonSerializer.Serialize(result, StoredJson.Options);
        },
        InterruptedReason: "the service stopped during the evaluation; create it again",
        LogEnded: Log.EvaluationEnded), scheduler, hub, clock, log);

    public static string Key(string name) => "evaluation/" + name;

    public EvaluationRecord Create(NewEvaluation request)
    {
        if (evaluator is null) throw NotInstalled();
        var name = JobNames.Choose(request.Name, "eval", clock);
        var suite = string.IsNullOrEmpty(request.Suite) ? "default" : request.Suite;
        JobNames.Require(suite, "suite");
        var episodes = request.Episodes == 0 ? DefaultEpisodes : request.Episodes;
        if (episodes is < 1 or > MaxEpisodes) throw new InvalidRequestException("episodes", $"must be in [1, {MaxEpisodes}] (got {request.Episodes})");
        var seed = request.Seed == 0 ? new EvaluationRequest("").Seed : request.Seed;
        var checkpoint = ResolveCheckpoint(request);
        return _jobs.Enqueue(Key(name), () => registry.InsertEvaluation(name, checkpoint, suite, episodes, seed));
    }

    public EvaluationRecord Get(string name) => registry.GetEvaluation(name) ?? throw new NotFoundException("evaluation", name);

    /// <summary>A checkpoint path confined to the data root, or a run's newest checkpoint; returned relative.</summary>
    private string ResolveCheckpoint(NewEvaluation request)
    {
        var hasPath = !string.IsNullOrEmpty(request.Checkpoint);
        var hasRun = !string.IsNullOrEmpty(request.Run);
        if (hasPath == hasRun) throw new InvalidRequestException("checkpoint", "give exactly one of checkpoint (a path under the data root) or run");
        if (hasRun)
        {
            JobNames.Require(request.Run, "run");
            var run = registry.GetRun(request.Run) ?? throw new NotFoundException("run", request.Run);
            return run.LastCheckpoint ?? throw new PreconditionFailedException($"runs/{run.Name}", "NO_CHECKPOINT", $"run '{run.Name}' has no checkpoint yet");
        }
        var full = SafePaths.Resolve(layout.Root, request.Checkpoint, "checkpoint");
        if (!Directory.Exists(full) && !File.Exists(full)) throw new NotFoundException("checkpoint", request.Checkpoint);
        return layout.ToRelative(full);
    }

    private static PreconditionFailedException NotInstalled() =>
        new("evaluator", "NOT_INSTALLED", "this build of the service has no evaluator (IEvaluator) registered");
}
