using Generalist.Service.Api.V1;
using Google.Rpc;
using Grpc.Core;

namespace Generalist.Service.Tests;

public class JobsApiTests
{
    [Fact]
    public async Task WatchRun_streams_the_snapshot_steps_checkpoints_and_states_until_the_run_rests()
    {
        var trainer = new FakeTrainer { Gate = new SemaphoreSlim(0) };
        await using var svc = await TestService.StartAsync(trainer: trainer);
        await svc.Runs().CreateRunAsync(Rpc.Quick("watched", steps: 4, every: 2));
        using var watch = svc.Runs().WatchRun(new WatchRunRequest { Name = "watched" });
        var events = new List<RunEvent>();
        Assert.True(await watch.ResponseStream.MoveNext());
        events.Add(watch.ResponseStream.Current);
        trainer.Gate.Release(4);
        while (await watch.ResponseStream.MoveNext()) events.Add(watch.ResponseStream.Current);

        Assert.Equal(RunEvent.EventOneofCase.Snapshot, events[0].EventCase);
        var steps = events.Where(e => e.EventCase == RunEvent.EventOneofCase.Step).Select(e => e.Step).ToList();
        Assert.Equal([1L, 2, 3, 4], steps.Select(s => s.Step));
        Assert.Equal(FakeTrainer.LossAt(1, 2, 0), steps[1].TaskLoss["cartpole"], 12);
        Assert.Equal(1000, steps[0].TokensPerSecond);
        Assert.Equal(["runs/watched/checkpoints/step-2", "runs/watched/checkpoints/step-4"],
            events.Where(e => e.EventCase == RunEvent.EventOneofCase.Checkpoint).Select(e => e.Checkpoint.Path));
        Assert.Equal(JobState.Succeeded, events[^1].State.State);
        if (events[0].Snapshot.State == JobState.Queued)
            Assert.Contains(events, e => e.EventCase == RunEvent.EventOneofCase.State && e.State.State == JobState.Running);
    }

    [Fact]
    public async Task Watching_a_finished_run_returns_its_snapshot_and_ends()
    {
        await using var svc = await TestService.StartAsync();
        await svc.Runs().CreateRunAsync(Rpc.Quick("finished", steps: 2));
        await svc.WaitForStateAsync("finished", JobState.Succeeded);
        using var watch = svc.Runs().WatchRun(new WatchRunRequest { Name = "finished" });
        Assert.True(await watch.ResponseStream.MoveNext());
        Assert.Equal(JobState.Succeeded, watch.ResponseStream.Current.Snapshot.State);
        Assert.False(await watch.ResponseStream.MoveNext());
    }

    [Fact]
    public async Task Checkpoints_are_listed_and_described_and_unknown_steps_are_NOT_FOUND()
    {
        await using var svc = await TestService.StartAsync();
        await svc.Runs().CreateRunAsync(Rpc.Quick("ckpt", steps: 6, every: 2));
        await svc.WaitForStateAsync("ckpt", JobState.Succeeded);
        var client = svc.Checkpoints();
        var list = await client.ListCheckpointsAsync(new ListCheckpointsRequest { Run = "ckpt" });
        Assert.Equal([2L, 4, 6], list.Checkpoints.Select(c => c.Step));
        Assert.All(list.Checkpoints, c => Assert.Equal(256 + c.Files.Single(f => f.Name == "trainer_state.json").SizeBytes, c.SizeBytes));

        var newest = await client.GetCheckpointAsync(new GetCheckpointRequest { Run = "ckpt" });
        Assert.Equal(6, newest.Step);
        Assert.Contains("\"step\":6", newest.TrainerStateJson);
        Assert.Equal(["model.safetensors", "trainer_state.json"], newest.Files.Select(f => f.Name));

        // A checkpoint deleted by retention disappears from the list.
        Directory.Delete(Path.Combine(svc.DataRoot, "runs/ckpt/checkpoints/step-2"), true);
        list = await client.ListCheckpointsAsync(new ListCheckpointsRequest { Run = "ckpt" });
        Assert.Equal([4L, 6], list.Checkpoints.Select(c => c.Step));
        await Rpc.FailsWith(StatusCode.NotFound, () => client.GetCheckpointAsync(new GetCheckpointRequest { Run = "ckpt", Step = 2 }).ResponseAsync);
        await Rpc.FailsWith(StatusCode.InvalidArgument, () => client.GetCheckpointAsync(new GetCheckpointRequest { Run = "ckpt", Step = -1 }).ResponseAsync);
    }

    [Fact]
    public async Task An_evaluation_of_a_runs_checkpoint_runs_and_is_watched_to_its_result()
    {
        await using var svc = await TestService.StartAsync();
        await svc.Runs().CreateRunAsync(Rpc.Quick("evaluated", steps: 2));
        await svc.WaitForStateAsync("evaluated", JobState.Succeeded);
        var client = svc.Evaluations();
        var created = await client.CreateEvaluationAsync(new CreateEvaluationRequest { Run = "evaluated", Name = "eval-1", Episodes = 3 });
        Assert.Equal(JobState.Queued, created.State);
        Assert.Equal("runs/evaluated/checkpoints/step-2", created.Checkpoint);
        Assert.Equal("default", created.Suite);

        using var watch = client.WatchEvaluation(new WatchEvaluationRequest { Name = "eval-1" });
        var events = new List<EvaluationEvent>();
        while (await watch.ResponseStream.MoveNext()) events.Add(watch.ResponseStream.Current);
        Assert.Equal(JobState.Succeeded, events[^1].EventCase == EvaluationEvent.EventOneofCase.State ? events[^1].State.State : events[^1].Snapshot.State);

        var done = await client.GetEvaluationAsync(new GetEvaluationRequest { Name = "eval-1" });
        Assert.Equal(JobState.Succeeded, done.State);
        Assert.Equal(62.5, done.Result.MeanNormalizedScore);
        Assert.Equal(["cartpole", "text"], done.Result.Tasks.Select(t => t.Task));
        Assert.False(done.Result.Tasks[1].HasNormalizedScore);
        Assert.Equal("runs/evaluated/checkpoints/step-2/eval-default.json", done.Result.JsonPath);
        var request = Assert.Single(svc.Evaluator.Requests);
        Assert.Equal(Path.Combine(svc.DataRoot, "runs/evaluated/checkpoints/step-2"), request.CheckpointPath);
        Assert.Equal(3, request.Episodes);

        var byPath = await client.CreateEvaluationAsync(new CreateEvaluationRequest { Checkpoint = "runs/evaluated/checkpoints/step-2", Suite = "control" });
        Assert.StartsWith("eval-", byPath.Name);
    }

    [Fact]
    public async Task Evaluation_errors_have_their_codes()
    {
        var trainer = new FakeTrainer { Gate = new SemaphoreSlim(0) };
        await using var svc = await TestService.StartAsync(trainer: trainer);
        var client = svc.Evaluations();
        await Rpc.FailsWith(StatusCode.NotFound, () => client.GetEvaluationAsync(new GetEvaluationRequest { Name = "nope" }).ResponseAsync);
        await Rpc.FailsWith(StatusCode.NotFound, () => client.CreateEvaluationAsync(new CreateEvaluationRequest { Run = "nope" }).ResponseAsync);
        await Rpc.FailsWith(StatusCode.NotFound, () => client.CreateEvaluationAsync(new CreateEvaluationRequest { Checkpoint = "runs/nope/checkpoints/step-1" }).ResponseAsync);
        var status = await Rpc.FailsWith(StatusCode.InvalidArgument, () => client.CreateEvaluationAsync(new CreateEvaluationRequest()).ResponseAsync);
        Assert.Equal("checkpoint", status.Detail<BadRequest>()!.FieldViolations.Single().Field);
        status = await Rpc.FailsWith(StatusCode.InvalidArgument, () => client.CreateEvaluationAsync(new CreateEvaluationRequest { Run = "x", Episodes = -3 }).ResponseAsync);
        Assert.Equal("episodes", status.Detail<BadRequest>()!.FieldViolations.Single().Field);

        await svc.Runs().CreateRunAsync(Rpc.Quick("young", steps: 5, every: 100));
        await svc.WaitForStateAsync("young", JobState.Running);
        status = await Rpc.FailsWith(StatusCode.FailedPrecondition, () => client.CreateEvaluationAsync(new CreateEvaluationRequest { Run = "young" }).ResponseAsync);
        Assert.Equal("NO_CHECKPOINT", status.Detail<PreconditionFailure>()!.Violations.Single().Type);
        await Rpc.FailsWith(StatusCode.NotFound, async () =>
        {
            using var w = client.WatchEvaluation(new WatchEvaluationRequest { Name = "nope" });
            await w.ResponseStream.MoveNext();
        });
    }

    [Fact]
    public async Task A_study_runs_from_a_config_under_the_data_root()
    {
        await using var svc = await TestService.StartAsync();
        Directory.CreateDirectory(Path.Combine(svc.DataRoot, "configs"));
        await File.WriteAllTextAsync(Path.Combine(svc.DataRoot, "configs/transfer.json"),
            """{"base":{"tasks":[{"name":"cartpole"}]},"transfer":{"families":{"control":["cartpole"]},"leave_one_family_out":false}}""");
        var client = svc.Studies();
        var created = await client.CreateStudyAsync(new CreateStudyRequest { Kind = "transfer", ConfigPath = "configs/transfer.json", Name = "t1" });
        Assert.Equal("studies/t1", created.OutputDirectory);
        using var watch = client.WatchStudy(new WatchStudyRequest { Name = "t1" });
        var events = new List<StudyEvent>();
        while (await watch.ResponseStream.MoveNext()) events.Add(watch.ResponseStream.Current);
        var done = await client.GetStudyAsync(new GetStudyRequest { Name = "t1" });
        Assert.Equal(JobState.Succeeded, done.State);
        Assert.Equal("studies/t1/report.md", done.ReportPath);
        Assert.True(File.Exists(Path.Combine(svc.DataRoot, "studies/t1/report.md")));

        var status = await Rpc.FailsWith(StatusCode.InvalidArgument, () => client.CreateStudyAsync(new CreateStudyRequest { Kind = "magic", ConfigPath = "configs/transfer.json" }).ResponseAsync);
        Assert.Equal("kind", status.Detail<BadRequest>()!.FieldViolations.Single().Field);
        await Rpc.FailsWith(StatusCode.NotFound, () => client.CreateStudyAsync(new CreateStudyRequest { Kind = "scaling", ConfigPath = "configs/none.json" }).ResponseAsync);
        await Rpc.FailsWith(StatusCode.AlreadyExists, () => client.CreateStudyAsync(new CreateStudyRequest { Kind = "transfer", ConfigPath = "configs/transfer.json", Name = "t1" }).ResponseAsync);
        await Rpc.FailsWith(StatusCode.NotFound, () => client.GetStudyAsync(new GetStudyRequest { Name = "t9" }).ResponseAsync);
    }
}
