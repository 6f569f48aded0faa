using System.Text.RegularExpressions;
using Generalist.Service.Api.V1;
using Generalist.Service.Jobs;
using Generalist.Service.Kernel;
using Generalist.Service.Registry;
using Grpc.Core;

namespace Generalist.Service.Api;

/// <summary>
/// Checkpoints the registry recorded (the trainer reports them only once renamed into place) that
/// still exist on disk (retention deletes old ones). Temporary directories are never listed.
/// </summary>
public sealed partial class CheckpointsApi(RunRegistry registry, DataLayout layout) : Checkpoints.CheckpointsBase
{
    public const long MaxTrainerStateBytes = 1 << 20;

    public override Task<ListCheckpointsResponse> ListCheckpoints(ListCheckpointsRequest request, ServerCallContext context)
    {
        JobNames.Require(request.Run, "run");
        _ = registry.GetRun(request.Run) ?? throw GrpcErrors.NotFound("run", request.Run);
        var response = new ListCheckpointsResponse();
        response.Checkpoints.AddRange(Existing(request.Run).Select(c => Describe(c, withState: false)));
        return Task.FromResult(response);
    }

    public override Task<Checkpoint> GetCheckpoint(GetCheckpointRequest request, ServerCallContext context)
    {
        JobNames.Require(request.Run, "run");
        if (request.Step < 0) throw GrpcErrors.InvalidArgument("step", $"must be >= 0 (0 = the newest; got {request.Step})");
        _ = registry.GetRun(request.Run) ?? throw GrpcErrors.NotFound("run", request.Run);
        var existing = Existing(request.Run);
        var chosen = request.Step == 0 ? existing.LastOrDefault() : existing.FirstOrDefault(c => c.Step == request.Step);
        if (chosen is null) throw GrpcErrors.NotFound("checkpoint", request.Step == 0 ? $"{request.Run} (no checkpoint yet)" : $"{request.Run}@step-{request.Step}");
        return Task.FromResult(Describe(chosen, withState: true));
    }

    private List<CheckpointRecord> Existing(string run) =>
        [.. registry.ListCheckpoints(run).Where(c => !TemporaryName().IsMatch(Path.GetFileName(c.Path)) && Exists(layout.ToAbsolute(c.Path)))];

    private static bool Exists(string path) => Directory.Exists(path) || File.Exists(path);

    private Checkpoint Describe(CheckpointRecord c, bool withState)
    {
        var full = layout.ToAbsolute(c.Path);
        var checkpoint = new Checkpoint { Run = c.Run, Step = c.Step, Path = c.Path, CreateTime = Mapping.Time(c.CreateTime) };
        IEnumerable<FileInfo> files = Directory.Exists(full)
            ? new DirectoryInfo(full).EnumerateFiles("*", SearchOption.AllDirectories).OrderBy(f => f.FullName, StringComparer.Ordinal)
            : [new FileInfo(full)];
        foreach (var f in files)
        {
            checkpoint.Files.Add(new CheckpointFile { Name = Path.GetRelativePath(Directory.Exists(full) ? full : Path.GetDirectoryName(full)!, f.FullName).Replace('\\', '/'), SizeBytes = f.Length });
            checkpoint.SizeBytes += f.Length;
        }
        var state = Path.Combine(full, "trainer_state.json");
        if (withState && File.Exists(state) && new FileInfo(state).Length <= MaxTrainerStateBytes)
            checkpoint.TrainerStateJson = File.ReadAllText(state);
        return checkpoint;
    }

    [GeneratedRegex(@"\.(tmp|partial)|^tmp-|\.tmp-", RegexOptions.IgnoreCase)]
    private static partial Regex TemporaryName();
}
