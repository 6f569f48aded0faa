using System.Text.Json;
using Generalist.Service.Kernel;
using Generalist.Service.Registry;
using Generalist.Service.Scheduling;
using Generalist.Service.Security;
using Generalist.Service.Telemetry;
using Generalist.Studies;
using Generalist.RunFormat;
using Microsoft.Extensions.Logging;

namespace Generalist.Service.Jobs;

/// <summary>What a client asks for when it creates a study; an empty name is generated.</summary>
/// <param name="ConfigPath">The study's JSON config, relative to the data root.</param>
public sealed record NewStudy(string Name, string Kind, string ConfigPath);

/// <summary>Transfer, scaling, ablation and in-context learning studies through <see cref="IStudyRunner"/>; output under studies/{name}.</summary>
/// <param name="runner">The study runner (Hosting registers it); without one, creating a study is FAILED_PRECONDITION.</param>
public sealed class StudyManager(
    RunRegistry registry,
    JobScheduler scheduler,
    EventHub<JobEvent<StudyRecord>> hub,
    DataLayout layout,
    TimeProvider clock,
    ILogger<StudyManager> log,
    IStudyRunner? runner = null)
{
    /// <summary>The kinds the study runner knows (<see cref="StudyKinds.All"/>), so the service and the CLI accept the same ones.</summary>
    public static IReadOnlyList<string> Kinds => StudyKinds.All;

    private readonly QueuedJobs<StudyRecord, Generalist.Studies.StudyProgress> _jobs = new(new(
        Name: "study",
        SetState: registry.SetStudyState,
        SaveProgress: registry.UpdateStudyProgress,
        Describe: p => (p.Stage, p.Done, p.Total, p.Message),
        Tag: r => new("study.kind", r.Kind),
        Work: async (record, progress, ct) =>
        {
            var output = layout.ToAbsolute(record.OutputDirectory);
            Directory.CreateDirectory(output);
            var result = await (runner ?? throw NotInstalled()).RunAsync(new StudyRequest(record.Kind, layout.ToAbsolute(record.ConfigPath), output), progress, ct);
            return JsonSerializer.Serialize(new StoredStudyResult(layout.ToRelative(result.ReportPath), [.. result.Artifacts.Select(layout.ToRelative)]), StoredJson.Options);
        },
        InterruptedReason: "the service stopped during the study; create a new study with the same config (the study runner keeps finished sub-runs)",
        LogEnded: Log.StudyEnded), scheduler, hub, clock, log);

    public static string Key(string name) => "study/" + name;

    public StudyRecord Create(NewStudy request)
    {
        if (runner is null) throw NotInstalled();
        if (!Kinds.Contains(request.Kind)) throw new InvalidRequestException("kind", $"must be one of {string.Join(", ", Kinds)} (got '{request.Kind}')");
        var name = JobNames.Choose(request.Name, request.Kind, clock);
        var config = SafePaths.Resolve(layout.Root, request.ConfigPath, "config_path");
        if (!File.Exists(config)) throw new NotFoundException("study config", request.ConfigPath);
        ValidateConfig(config, request.ConfigPath, request.Kind);
        var output = layout.ToRelative(layout.StudyDirectory(name));
        return _jobs.Enqueue(Key(name), () => registry.InsertStudy(name, request.Kind, layout.ToRelative(config), output));
    }

    /// <summary>
    /// Parses and validates the study config before the study is queued, as the CLI does before it
    /// starts one: a bad field (e.g. ablation.variants[1].name) is INVALID_ARGUMENT naming it, not a
    /// failed study later. Messages name the config by the path the client gave.
    /// </summary>
    private static void ValidateConfig(string path, string requestPath, string kind)
    {
        if (new FileInfo(path).Length > 1 << 20) throw new InvalidRequestException("config_path", $"{requestPath}: study configs are at most 1 MiB");
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
            throw new InvalidRequestException(field, description);
        }
    }

    public StudyRecord Get(string name) => registry.GetStudy(name) ?? throw new NotFoundException("study", name);

    private static PreconditionFailedException NotInstalled() =>
        new("study_runner", "NOT_INSTALLED", "this build of the service has no study runner (IStudyRunner) registered");
}
