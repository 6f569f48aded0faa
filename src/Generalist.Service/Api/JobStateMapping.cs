using Generalist.Service.Registry;
using ProtoState = Generalist.Service.Api.V1.JobState;

namespace Generalist.Service.Api;

/// <summary>
/// The registry's job states as the API's generalist.v1.JobState and back, and their names as
/// clients show and take them (the CLI prints and parses them; the names are the registry's).
/// </summary>
public static class JobStateMapping
{
    private static readonly (JobState Domain, ProtoState Proto)[] Pairs =
    [
        (JobState.Queued, ProtoState.Queued),
        (JobState.Running, ProtoState.Running),
        (JobState.Cancelling, ProtoState.Cancelling),
        (JobState.Succeeded, ProtoState.Succeeded),
        (JobState.Failed, ProtoState.Failed),
        (JobState.Cancelled, ProtoState.Cancelled),
        (JobState.Interrupted, ProtoState.Interrupted),
    ];

    private static readonly Dictionary<JobState, ProtoState> ToProtoMap = Pairs.ToDictionary(p => p.Domain, p => p.Proto);
    private static readonly Dictionary<ProtoState, JobState> ToDomainMap = Pairs.ToDictionary(p => p.Proto, p => p.Domain);

    /// <summary>Every state's name, in the order of a job's life: queued, running, cancelling, succeeded, failed, cancelled, interrupted.</summary>
    public static IReadOnlyList<string> Names { get; } = [.. JobStates.All.Select(JobStates.ToText)];

    public static ProtoState ToProto(this JobState state) => ToProtoMap[state];

    /// <summary>The registry's state; null for JOB_STATE_UNSPECIFIED and values this build does not know.</summary>
    public static JobState? ToDomain(this ProtoState state) => ToDomainMap.TryGetValue(state, out var s) ? s : null;

    /// <summary>The state's name ("queued", "running", ...); "unknown" for JOB_STATE_UNSPECIFIED or a value this build does not know.</summary>
    public static string Text(ProtoState state) => state.ToDomain() is { } s ? JobStates.ToText(s) : "unknown";

    /// <summary>The state with this name (exactly as <see cref="Text"/> writes it), or null.</summary>
    public static ProtoState? Parse(string text) => JobStates.TryFromText(text)?.ToProto();
}
