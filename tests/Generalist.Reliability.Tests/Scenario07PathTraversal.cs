using Generalist.Service.Api.V1;
using Generalist.Service.Registry;
using Generalist.Service.Security;
using Generalist.Service.Tests;
using Google.Rpc;
using Grpc.Core;

namespace Generalist.Reliability.Tests;

/// <summary>
/// Issue 10, scenario 7: path traversal in run names, checkpoint paths and config/data paths
/// (`../`, `..\\`, absolute paths, `%2e%2e%2f`, double-encoded, NUL, links) is refused with
/// INVALID_ARGUMENT naming the field, and nothing outside the data root is touched.
/// </summary>
public class Scenario07PathTraversal
{
    public static TheoryData<string> TraversalAttempts() =>
    [
        "../outside", "..\\outside", "runs/../../outside", "runs/..\\..\\outside", "/etc/passwd", "C:\\Windows", "c:/windows",
        "%2e%2e%2foutside", "%2E%2E%2Foutside", "%252e%252e%252foutside", "..%2foutside", "runs/%2e%2e/%2e%2e/outside",
        "runs/\0/x", "runs/ok\0../../x", "~/outside", "./runs", "runs/./x", "", " ../outside",
    ];

    [Theory]
    [MemberData(nameof(TraversalAttempts))]
    public void SafePaths_refuses_every_traversal_form(string attempt)
    {
        var root = Directory.CreateTempSubdirectory("generalist-root-").FullName;
        try
        {
            var e = Assert.Throws<UnsafePathException>(() => SafePaths.Resolve(root, attempt, "checkpoint"));
            Assert.Equal("checkpoint", e.Field);
        }
        finally
        {
            Directory.Delete(root, true);
        }
    }

    [Fact]
    public void SafePaths_accepts_plain_relative_paths_and_refuses_links_that_leave_the_root()
    {
        var root = Directory.CreateTempSubdirectory("generalist-root-").FullName;
        var outside = Directory.CreateTempSubdirectory("generalist-outside-").FullName;
        try
        {
            Assert.Equal(Path.Combine(root, "runs", "a", "step-1"), SafePaths.Resolve(root, "runs/a/step-1", "checkpoint"));
            Assert.Equal(Path.Combine(root, "runs", "a..b"), SafePaths.Resolve(root, "runs/a..b", "checkpoint"));
            Directory.CreateSymbolicLink(Path.Combine(root, "escape"), outside);
            Assert.Throws<UnsafePathException>(() => SafePaths.Resolve(root, "escape/secret", "checkpoint"));
        }
        finally
        {
            Directory.Delete(root, true);
            Directory.Delete(outside, true);
        }
    }

    [Theory]
    [MemberData(nameof(TraversalAttempts))]
    public async Task Traversal_in_evaluation_checkpoints_study_configs_and_run_names_is_INVALID_ARGUMENT(string attempt)
    {
        // root/ is the data root; outside/ is its sibling, where "../outside" would land.
        var parent = Directory.CreateTempSubdirectory("generalist-sandbox-").FullName;
        var outside = Directory.CreateDirectory(Path.Combine(parent, "outside")).FullName;
        try
        {
            await TraversalIsRefused(attempt, parent, outside);
        }
        finally
        {
            TestService.TryDelete(parent);
        }
    }

    private static async Task TraversalIsRefused(string attempt, string parent, string outside)
    {
        await using var svc = await TestService.StartAsync(dataRoot: Path.Combine(parent, "root"));

        var status = await Rpc.FailsWith(StatusCode.InvalidArgument, () => svc.Evaluations().CreateEvaluationAsync(new CreateEvaluationRequest { Checkpoint = attempt, Run = attempt.Length == 0 ? "" : "" }).ResponseAsync);
        Assert.Equal("checkpoint", status.Detail<BadRequest>()!.FieldViolations.Single().Field);
        status = await Rpc.FailsWith(StatusCode.InvalidArgument, () => svc.Studies().CreateStudyAsync(new CreateStudyRequest { Kind = "transfer", ConfigPath = attempt }).ResponseAsync);
        Assert.Equal("config_path", status.Detail<BadRequest>()!.FieldViolations.Single().Field);
        if (attempt.Length > 0)
        {
            status = await Rpc.FailsWith(StatusCode.InvalidArgument, () => svc.Runs().CreateRunAsync(new CreateRunRequest { Name = attempt }).ResponseAsync);
            Assert.Equal("name", status.Detail<BadRequest>()!.FieldViolations.Single().Field);
            await Rpc.FailsWith(StatusCode.InvalidArgument, () => svc.Runs().GetRunAsync(new GetRunRequest { Name = attempt }).ResponseAsync);
            await Rpc.FailsWith(StatusCode.InvalidArgument, () => svc.Evaluations().CreateEvaluationAsync(new CreateEvaluationRequest { Run = attempt }).ResponseAsync);
            await Rpc.FailsWith(StatusCode.InvalidArgument, () => svc.Checkpoints().ListCheckpointsAsync(new ListCheckpointsRequest { Run = attempt }).ResponseAsync);
        }
        Assert.Equal(0, svc.Service<RunRegistry>().CountRuns());
        Assert.Equal(["outside", "root"], Directory.GetFileSystemEntries(parent).Select(Path.GetFileName).Order(StringComparer.Ordinal));
        Assert.Empty(Directory.GetFileSystemEntries(outside));
        Assert.Equal([".service.lock", "evaluations", "registry.db", "registry.db-shm", "registry.db-wal", "runs", "studies"],
            Directory.GetFileSystemEntries(svc.DataRoot).Select(Path.GetFileName).Order(StringComparer.Ordinal));
    }
}
