using System.Diagnostics;
using System.Text.Json;
using Generalist.Evaluation;
using Generalist.Service.Api;
using Generalist.Service.Api.V1;
using Generalist.Service.Hosting;
using Generalist.Service.Registry;
using Generalist.Service.Scheduling;
using Generalist.Service.Security;
using Generalist.Service.Telemetry;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Logging;
using EvaluationProgressEvent = Generalist.Service.Api.V1.EvaluationProgress;

namespace Generalist.Service.Jobs;

/// <summary>Evaluations of a checkpoint on a suite through <see cref="IEvaluator"/>, in the same queue as runs.</summary>
public sealed class EvaluationManager(
    RunRegistry registry,
    JobScheduler scheduler,
    EventHub<EvaluationEvent> hub,
    GeneralistTelemetry telemetry,
    DataLayout layout,
    IServiceProvider services,
    TimeProvider clock,
    ILogger<EvaluationManager> log)
{
    public const int DefaultEpisodes = 50;
    public const int MaxEpisodes = 100_000;

    public static string Key(string name) => "evaluation/" + name;

    public EvaluationRecord Create(CreateEvaluationRequest request)
    {
        if (services.GetService<IEvaluator>() is null)
            throw GrpcErrors.FailedPrecondition("evaluator", "NOT_INSTALLED", "this build of the service has no evaluator (IEvaluator) registered");
        var name = JobNames.Choose(request.Name, "eval", clock);
        var suite = string.IsNullOrEmpty(request.Suite) ? "default" : request.Suite;
        JobNames.Require(suite, "suite");
        var episodes = request.Episodes == 0 ? DefaultEpisodes : request.Episodes;
        if (episodes is < 1 or > MaxEpisodes) throw GrpcErrors.InvalidArgument("episodes", $"must be in [1, {MaxEpisodes}] (got {request.Episodes})");
        var seed = request.Seed == 0 ? new EvaluationRequest("").Seed : request.Seed;
        var checkpoint = ResolveCheckpoint(request);

        using var slot = scheduler.TryReserve() ?? throw GrpcErrors.ResourceExhausted("queue", $"the job queue is full ({scheduler.Capacity} waiting); retry later");
        EvaluationRecord record;
        try
        {
            record = registry.InsertEvaluation(name, checkpoint, suite, episodes, seed);
        }
        catch (DuplicateNameException)
        {
            throw GrpcErrors.AlreadyExists("evaluation", name);
        }
        slot.Commit(Key(name), ct => ExecuteAsync(name, ct));
        return record;
    }

    public EvaluationRecord Get(string name) => registry.GetEvaluation(name) ?? throw GrpcErrors.NotFound("evaluation", name);

    /// <summary>A checkpoint path confined to the data root, or a run's newest checkpoint; returned relative.</summary>
    private string ResolveCheckpoint(CreateEvaluationRequest request)
    {
        var hasPath = !string.IsNullOrEmpty(request.Checkpoint);
        var hasRun = !string.IsNullOrEmpty(request.Run);
        if (hasPath == hasRun) throw GrpcErrors.InvalidArgument("checkpoint", "give exactly one of checkpoint (a path under the data root) or run");
        if (hasRun)
        {
            JobNames.Require(request.Run, "run");
            var run = registry.GetRun(request.Run) ?? throw GrpcErrors.NotFound("run", request.Run);
            return run.LastCheckpoint ?? throw GrpcErrors.FailedPrecondition($"runs/{run.Name}", "NO_CHECKPOINT", $"run '{run.Name}' has no checkpoint yet");
        }
        var full = SafePaths.Resolve(layout.Root, request.Checkpoint, "checkpoint");
        if (!Directory.Exists(full) && !File.Exists(full)) throw GrpcErrors.NotFound("checkpoint", request.Checkpoint);
        return layout.ToRelative(full);
    }

    private async Task ExecuteAsync(string name, CancellationToken ct)
    {
        var record = registry.GetEvaluation(name)!;
        var evaluator = services.GetRequiredService<IEvaluator>();
        record = registry.SetEvaluationState(name, JobState.Running, "started");
        hub.Publish(name, StateEvent(record));
        using var activity = GeneralistTelemetry.Activities.StartActivity("evaluation");
        activity?.SetTag("evaluation", name);
        activity?.SetTag("suite", record.Suite);
        var progress = new ThrottledProgress<Generalist.Evaluation.EvaluationProgress>(clock, p =>
        {
            registry.UpdateEvaluationProgress(name, p.Task, p.Done, p.Total);
        }, p =>
        {
            if (hub.HasSubscribers(name))
                hub.Publish(name, new EvaluationEvent { Evaluation = name, Time = Mapping.Time(clock.GetUtcNow().ToUnixTimeMilliseconds()), Progress = new EvaluationProgressEvent { Task = p.Task, Done = p.Done, Total = p.Total } });
        });
        var (state, reason, resultJson) = await JobOutcome.RunAsync(async () =>
        {
            var request = new EvaluationRequest(layout.ToAbsolute(record.Checkpoint), record.Suite, record.Episodes, record.Seed);
            var result = await evaluator.EvaluateAsync(request, progress, ct);
            telemetry.RecordEvaluation(result);
            return JsonSerializer.Serialize(result, StoredJson.Options);
        }, "the service stopped during the evaluation; create it again", activity, ct);
        progress.Flush();
        var final = registry.SetEvaluationState(name, state, reason, resultJson);
        Log.EvaluationEnded(log, name, JobStates.ToText(state));
        hub.Complete(name, StateEvent(final));
    }

    private EvaluationEvent StateEvent(EvaluationRecord e) => new()
    {
        Evaluation = e.Name,
        Time = Mapping.Time(clock.GetUtcNow().ToUnixTimeMilliseconds()),
        State = new StateChanged { State = e.State, Reason = e.FailureReason ?? "" },
    };
}

/// <summary>Progress that streams every report but persists at most once a second (and on Flush).</summary>
public sealed class ThrottledProgress<T>(TimeProvider clock, Action<T> persist, Action<T> publish) : IProgress<T> where T : class
{
    private readonly Lock _gate = new();
    private long _last = long.MinValue;
    private T? _pending;

    public void Report(T value)
    {
        publish(value);
        lock (_gate)
        {
            var now = clock.GetTimestamp();
            if (_last != long.MinValue && clock.GetElapsedTime(_last, now) < TimeSpan.FromSeconds(1))
            {
                _pending = value;
                return;
            }
            _last = now;
            _pending = null;
        }
        persist(value);
    }

    public void Flush()
    {
        T? pending;
        lock (_gate) (pending, _pending) = (_pending, null);
        if (pending is not null) persist(pending);
    }
}
