using System.Text;
using Generalist.Service.Api.V1;
using Generalist.Service.Jobs;
using Generalist.Service.Kernel;
using Generalist.Service.Registry;
using Generalist.Service.Scheduling;
using Grpc.Core;
using Generalist.RunFormat;
using Generalist.RunFormat.Checkpointing;

namespace Generalist.Service.Api;

/// <summary>generalist.v1.Runs: validation and paging here; the run's life is in <see cref="RunManager"/>.</summary>
public sealed class RunsApi(RunManager runs, RunRegistry registry, EventHub<JobEvent<RunRecord>> hub, DataLayout layout) : Runs.RunsBase
{
    public const int DefaultPageSize = 50;
    public const int MaxPageSize = 1000;

    public override Task<Run> CreateRun(CreateRunRequest request, ServerCallContext context)
    {
        var config = ConfineInitFrom(BuildConfig(request), layout.Root);
        return Task.FromResult(runs.Create(config).ToProto(layout));
    }

    /// <summary>
    /// init_from arrives relative to the data root and is confined to it like every request path;
    /// the run then carries the resolved absolute checkpoint directory. A path that holds no valid
    /// checkpoint is refused now rather than when the run starts.
    /// </summary>
    internal static RunConfig ConfineInitFrom(RunConfig config, string root)
    {
        if (config.InitFrom is null) return config;
        var full = Security.SafePaths.Resolve(root, config.InitFrom, "init_from");
        try
        {
            return config with { InitFrom = RunFormat.Checkpointing.ModelWeights.Resolve(full) };
        }
        catch (Exception e) when (e is IOException or InvalidDataException)
        {
            throw GrpcErrors.InvalidArgument("init_from", $"no valid checkpoint at '{config.InitFrom}' under the data root: {e.Message.Replace(root, "<data root>")}");
        }
    }

    public override Task<Run> GetRun(GetRunRequest request, ServerCallContext context)
    {
        JobNames.Require(request.Name);
        return Task.FromResult(runs.Get(request.Name).ToProto(layout));
    }

    public override Task<ListRunsResponse> ListRuns(ListRunsRequest request, ServerCallContext context)
    {
        if (request.PageSize is < 0 or > MaxPageSize) throw GrpcErrors.InvalidArgument("page_size", $"must be in [0, {MaxPageSize}] (0 = {DefaultPageSize}; got {request.PageSize})");
        if (!Enum.IsDefined(request.State)) throw GrpcErrors.InvalidArgument("state", $"unknown state {(int)request.State}");
        if (request.NamePrefix.Length > 64 || request.NamePrefix.Any(char.IsControl)) throw GrpcErrors.InvalidArgument("name_prefix", "must be at most 64 characters without control characters");
        var size = request.PageSize == 0 ? DefaultPageSize : request.PageSize;
        var after = PageToken.Decode(request.PageToken);
        var page = registry.ListRuns(after, size + 1, request.State.ToDomain(), request.NamePrefix);
        var response = new ListRunsResponse();
        response.Runs.AddRange(page.Take(size).Select(r => runs.WithLiveProgress(r).ToProto(layout)));
        if (page.Count > size) response.NextPageToken = PageToken.Encode(page[size - 1].Sequence);
        return Task.FromResult(response);
    }

    public override Task<Run> CancelRun(CancelRunRequest request, ServerCallContext context)
    {
        JobNames.Require(request.Name);
        return Task.FromResult(runs.Cancel(request.Name).ToProto(layout));
    }

    public override Task<Run> ResumeRun(ResumeRunRequest request, ServerCallContext context)
    {
        JobNames.Require(request.Name);
        return Task.FromResult(runs.Resume(request.Name).ToProto(layout));
    }

    public override Task WatchRun(WatchRunRequest request, IServerStreamWriter<RunEvent> responseStream, ServerCallContext context) =>
        WatchStream.WriteAsync(hub, request.Name, runs.Get, e => e.ToProto(layout), responseStream, context);

    /// <summary>config_json (or the defaults) with the request's fields on top, validated as a whole.</summary>
    internal static RunConfig BuildConfig(CreateRunRequest request)
    {
        RunConfig config;
        try
        {
            config = string.IsNullOrWhiteSpace(request.ConfigJson) ? new RunConfig() : RunConfig.ParseUnvalidated(request.ConfigJson, "config_json");
            config = new RunConfigOverrides
            {
                Name = request.Name.Length > 0 ? request.Name : null,
                Preset = request.Preset.Length > 0 ? request.Preset : null,
                Steps = request.Steps != 0 ? request.Steps : null,
                Seed = request.Seed != 0 ? request.Seed : null,
                Tasks = request.Tasks.Count > 0 ? TaskWeights.Parse(request.Tasks, checkValues: false) : null,
            }.ApplyTo(config);
        }
        catch (ConfigException e)
        {
            throw GrpcErrors.InvalidArgument(string.IsNullOrEmpty(e.Field) ? "config_json" : e.Field, e.Message);
        }
        // The same checks as `generalist train` (preset, task names, memory), so nothing is queued that would fail at start.
        var errors = config.ValidateForTraining();
        if (errors.Count > 0) throw GrpcErrorsExtensions.InvalidArguments([.. errors.Select(e => (e.Field, e.Message))]);
        return config;
    }
}

/// <summary>Opaque page tokens (AIP-158): the last sequence number of the previous page.</summary>
internal static class PageToken
{
    private const string Prefix = "runs-after:";

    public static string Encode(long sequence) => Convert.ToBase64String(Encoding.UTF8.GetBytes(Prefix + sequence));

    public static long Decode(string token)
    {
        if (string.IsNullOrEmpty(token)) return 0;
        try
        {
            var text = Encoding.UTF8.GetString(Convert.FromBase64String(token));
            if (text.StartsWith(Prefix, StringComparison.Ordinal) && long.TryParse(text.AsSpan(Prefix.Length), out var seq) && seq >= 0) return seq;
        }
        catch (FormatException)
        {
            // falls through to the error below
        }
        throw GrpcErrors.InvalidArgument("page_token", "is not a token from a previous ListRuns response");
    }
}
