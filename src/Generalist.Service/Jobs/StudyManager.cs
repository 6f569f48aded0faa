using System.Diagnostics;
using System.Text.Json;
using Generalist.Service.Api;
using Generalist.Service.Api.V1;
using Generalist.Service.Hosting;
using Generalist.Service.Registry;
using Generalist.Service.Scheduling;
using Generalist.Service.Security;
using Generalist.Service.Telemetry;
using Generalist.Studies;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Logging;
using StudyProgressEvent = Generalist.Service.Api.V1.StudyProgress;
using Generalist.RunFormat;

namespace Generalist.Service.Jobs;

/// <summary>Transfer, scaling, ablation and in-context learning studies through <see cref="IStudyRunner"/>; output under studies/{name}.</summary>
public sealed class StudyManager(
    RunRegistry registry,
    JobScheduler scheduler,
    EventHub<StudyEvent> hub,
    DataLayout layout,
    IServiceProvider services,
    TimeProvider clock,
    ILogger<StudyManager> log)
{
    /// <summary>The kinds the study runner knows (<see cref="StudyKinds.All"/>), so the service and the CLI accept the same ones.</summary>
    public static IReadOnlyList<string> Kinds => StudyKinds.All;

    public static string Key(string name) => "study/" + name;

    public StudyRecord Create(CreateStudyRequest request)
    {
        if (services.GetService<IStudyRunner>() is null)
            throw GrpcErrors.FailedPrecondition("study_runner", "NOT_INSTALLED", "this build of the service has no study runner (IStudyRunner) registered");
        if (!Kinds.Contains(request.Kind)) throw GrpcErrors.InvalidArgument("kind", $"must be one of {string.Join(", ", Kinds)} (got '{request.Kind}')");
        var name = JobNames.Choose(request.Name, request.Kind, clock);
        var config = SafePaths.Resolve(layout.Root, request.ConfigPath, "config_path");
        if (!File.Exists(config)) throw GrpcErrors.NotFound("study config", request.ConfigPath);
        ValidateConfig(config, request.ConfigPath, request.Kind);
        var output = layout.ToRelative(layout.StudyDirectory(name));

        using var slot = scheduler.TryReserve() ?? throw GrpcErrors.ResourceExhausted("queue", $"the job queue is full ({scheduler.Capacity} waiting); retry later");
        StudyRecord record;
        try
        {
            record = registry.InsertStudy(name, request.Kind, layout.ToRelative(config), output);
        }
        catch (DuplicateNameException)
        {
            throw GrpcErrors.AlreadyExists("study", name);
        }
        slot.Commit(Key(name), ct => ExecuteAsync(name, ct));
        return record;
    }

    /// <summary>
    /// Parses and validates the study config before the study is queued, as the CLI does before it
    /// starts one: a bad field (e.g. ablation.variants[1].name) is INVALID_ARGUMENT naming it, not a
    /// failed study later. Messages name the config by the path the client gave.
    /// </summary>
    private static void ValidateConfig(string path, string requestPath, string kind)
    {
        if (new FileInfo(path).Length > 1 << 20) throw GrpcErrors.InvalidArgument("config_path", $"{requestPath}: study configs are at most 1 MiB");
        try
        {
            var config = StudyConfig.Parse(File.ReadAllText(path), requestPath);
            if (kind == StudyKinds.Transfer) config.ValidateForTransfer(requestPath);
        }
        catch (ConfigException e)
        {
            var field = string.IsNullOrEmpty(e.Field) ? "config_path" : e.Field;
            // The status message is "FIELD: DESCRIPTION"; the description is the config's own message without its "PATH: FIELD: " prefix.
            var description = e.Message;
            foreach (var prefix in new[] { $"{requestPath}: {e.Field}: ", $"{requestPath}: " })
                if (description.StartsWith(prefix, StringComparison.Ordinal)) { description = description[prefix.Length..]; break; }
            throw GrpcErrors.InvalidArgument(field, description);
        }
    }

    public StudyRecord Get(string name) => registry.GetStudy(name) ?? throw GrpcErrors.NotFound("study", name);

    private async Task ExecuteAsync(string name, CancellationToken ct)
    {
        var runner = services.GetRequiredService<IStudyRunner>();
        var record = registry.SetStudyState(name, JobState.Running, "started");
        hub.Publish(name, StateEvent(record));
        using var activity = GeneralistTelemetry.Activities.StartActivity("study");
        activity?.SetTag("study", name);
        activity?.SetTag("study.kind", record.Kind);
        var progress = new ThrottledProgress<Generalist.Studies.StudyProgress>(clock,
            p => registry.UpdateStudyProgress(name, p.Stage, p.Done, p.Total),
            p =>
            {
                if (hub.HasSubscribers(name))
                    hub.Publish(name, new StudyEvent { Study = name, Time = Mapping.Time(clock.GetUtcNow().ToUnixTimeMilliseconds()), Progress = new StudyProgressEvent { Stage = p.Stage, Done = p.Done, Total = p.Total, Message = p.Message ?? "" } });
            });
        var (state, reason, resultJson) = await JobOutcome.RunAsync(async () =>
        {
            var output = layout.ToAbsolute(record.OutputDirectory);
            Directory.CreateDirectory(output);
            var result = await runner.RunAsync(new StudyRequest(record.Kind, layout.ToAbsolute(record.ConfigPath), output), progress, ct);
            return JsonSerializer.Serialize(new StoredStudyResult(layout.ToRelative(result.ReportPath), [.. result.Artifacts.Select(layout.ToRelative)]), StoredJson.Options);
        }, "the service stopped during the study; create a new study with the same config (the study runner keeps finished sub-runs)", activity, ct);
        progress.Flush();
        var final = registry.SetStudyState(name, state, reason, resultJson);
        Log.StudyEnded(log, name, JobStates.ToText(state));
        hub.Complete(name, StateEvent(final));
    }

    private StudyEvent StateEvent(StudyRecord s) => new()
    {
        Study = s.Name,
        Time = Mapping.Time(clock.GetUtcNow().ToUnixTimeMilliseconds()),
        State = new StateChanged { State = s.State, Reason = s.FailureReason ?? "" },
    };
}
