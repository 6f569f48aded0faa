using Generalist.Service.Api.V1;
using Generalist.Service.Registry;
using JobState = Generalist.Service.Api.V1.JobState;
using Google.Rpc;
using Grpc.Core;
using Generalist.RunFormat;

namespace Generalist.Service.Tests;

public class RunsApiTests
{
    [Fact]
    public async Task CreateRun_returns_the_queued_run_at_once_and_it_runs_to_completion()
    {
        await using var svc = await TestService.StartAsync();
        var runs = svc.Runs();
        var created = await runs.CreateRunAsync(Rpc.Quick("first", steps: 6, every: 2));
        Assert.Equal("first", created.Name);
        Assert.Equal(JobState.Queued, created.State);
        Assert.Equal(6, created.TotalSteps);
        Assert.Equal("runs/first", created.RunDirectory);

        var done = await svc.WaitForStateAsync("first", JobState.Succeeded);
        Assert.Equal(6, done.Step);
        Assert.Equal(1, done.Attempts);
        Assert.Equal("runs/first/checkpoints/step-6", done.LastCheckpoint);
        Assert.Equal(FakeTrainer.LossAt(1, 6, 0) / 2 + FakeTrainer.LossAt(1, 6, 1) / 2, done.Loss, 9);
        Assert.Equal(6 * 8 * FakeTrainer.TokensPerSequence, done.TokensSeen);
        Assert.NotNull(done.EndTime);
        var history = svc.Service<RunRegistry>().StateHistory("runs", "first").Select(s => s.State);
        Assert.Equal([Registry.JobState.Queued, Registry.JobState.Running, Registry.JobState.Succeeded], history);
        Assert.Equal(6, File.ReadAllLines(Path.Combine(svc.DataRoot, "runs/first/metrics.jsonl")).Length);
    }

    [Fact]
    public async Task CreateRun_from_fields_overrides_the_config()
    {
        await using var svc = await TestService.StartAsync();
        var created = await svc.Runs().CreateRunAsync(new CreateRunRequest { Name = "fields", Preset = "tiny", Tasks = { "cartpole:2", "text" }, Steps = 3, Seed = 9 });
        var config = RunConfig.Parse(created.ConfigJson);
        Assert.Equal(3, config.Steps);
        Assert.Equal(9, config.Seed);
        Assert.Equal([new TaskWeight("cartpole", 2), new TaskWeight("text", 1)], config.Tasks);
        await svc.WaitForStateAsync("fields", JobState.Succeeded);
    }

    [Fact]
    public async Task Invalid_configs_get_INVALID_ARGUMENT_with_each_field()
    {
        await using var svc = await TestService.StartAsync();
        var runs = svc.Runs();
        var status = await Rpc.FailsWith(StatusCode.InvalidArgument, () => runs.CreateRunAsync(new CreateRunRequest { Name = "bad", Steps = -1, Tasks = { "cartpole:0" } }).ResponseAsync);
        var fields = status.Detail<BadRequest>()!.FieldViolations.Select(v => v.Field).ToList();
        Assert.Contains("steps", fields);
        Assert.Contains("tasks[0].weight", fields);
        Assert.Contains("[1, 10000000]", status.Detail<BadRequest>()!.FieldViolations.First(v => v.Field == "steps").Description);

        status = await Rpc.FailsWith(StatusCode.InvalidArgument, () => runs.CreateRunAsync(new CreateRunRequest { ConfigJson = """{"name":"x","stepz":3}""" }).ResponseAsync);
        Assert.Equal("stepz", status.Detail<BadRequest>()!.FieldViolations.Single().Field);

        status = await Rpc.FailsWith(StatusCode.InvalidArgument, () => runs.CreateRunAsync(new CreateRunRequest { ConfigJson = "{not json" }).ResponseAsync);
        Assert.NotNull(status.Detail<BadRequest>());

        status = await Rpc.FailsWith(StatusCode.InvalidArgument, () => runs.CreateRunAsync(new CreateRunRequest { Name = "a/b" }).ResponseAsync);
        Assert.Equal("name", status.Detail<BadRequest>()!.FieldViolations.Single().Field);
        Assert.Equal(0, svc.Service<RunRegistry>().CountRuns());
    }

    [Fact]
    public async Task Init_from_is_confined_to_the_data_root_and_must_name_a_checkpoint()
    {
        await using var svc = await TestService.StartAsync();
        var runs = svc.Runs();
        await runs.CreateRunAsync(Rpc.Quick("source", steps: 4, every: 2));
        await svc.WaitForStateAsync("source", JobState.Succeeded);
        CreateRunRequest With(string name, string initFrom) => new()
        {
            ConfigJson = new RunConfig { Name = name, Steps = 2, InitFrom = initFrom }.ToJson(),
        };
        foreach (var outside in new[] { "../source", "/etc", "runs/../../x", "runs/%2e%2e/x" })
        {
            var status = await Rpc.FailsWith(StatusCode.InvalidArgument, () => runs.CreateRunAsync(With("escape", outside)).ResponseAsync);
            Assert.Equal("init_from", status.Detail<BadRequest>()!.FieldViolations.Single().Field);
        }
        var missing = await Rpc.FailsWith(StatusCode.InvalidArgument, () => runs.CreateRunAsync(With("missing", "runs/nothing-here")).ResponseAsync);
        Assert.Contains("no valid checkpoint at 'runs/nothing-here'", missing.Detail<BadRequest>()!.FieldViolations.Single().Description);
        Assert.DoesNotContain(svc.DataRoot, missing.Detail<BadRequest>()!.FieldViolations.Single().Description);

        var created = await runs.CreateRunAsync(With("finetune", "runs/source/checkpoints/step-4"));
        Assert.Equal(Path.Combine(svc.DataRoot, "runs", "source", "checkpoints", "step-4"), RunConfig.Parse(created.ConfigJson).InitFrom);
        await svc.WaitForStateAsync("finetune", JobState.Succeeded);
    }

    [Fact]
    public async Task A_second_run_with_the_same_name_gets_ALREADY_EXISTS()
    {
        await using var svc = await TestService.StartAsync();
        await svc.Runs().CreateRunAsync(Rpc.Quick("twice"));
        var status = await Rpc.FailsWith(StatusCode.AlreadyExists, () => svc.Runs().CreateRunAsync(Rpc.Quick("twice")).ResponseAsync);
        Assert.Equal("twice", status.Detail<ResourceInfo>()!.ResourceName);
    }

    [Fact]
    public async Task ListRuns_pages_and_filters()
    {
        await using var svc = await TestService.StartAsync(new() { ["Service:QueueCapacity"] = "20" });
        for (var i = 0; i < 7; i++) await svc.Runs().CreateRunAsync(Rpc.Quick($"{(i < 4 ? "alpha" : "beta")}-{i}", steps: 2));
        for (var i = 0; i < 7; i++) await svc.WaitForStateAsync($"{(i < 4 ? "alpha" : "beta")}-{i}", JobState.Succeeded);
        var runs = svc.Runs();
        var names = new List<string>();
        var token = "";
        var pages = 0;
        do
        {
            var page = await runs.ListRunsAsync(new ListRunsRequest { PageSize = 3, PageToken = token });
            names.AddRange(page.Runs.Select(r => r.Name));
            token = page.NextPageToken;
            pages++;
        } while (token.Length > 0 && pages < 10);
        Assert.Equal(3, pages);
        Assert.Equal(Enumerable.Range(0, 7).Select(i => $"{(i < 4 ? "alpha" : "beta")}-{i}"), names);

        var betas = await runs.ListRunsAsync(new ListRunsRequest { NamePrefix = "beta" });
        Assert.Equal(["beta-4", "beta-5", "beta-6"], betas.Runs.Select(r => r.Name));
        Assert.Empty(betas.NextPageToken);
        var succeeded = await runs.ListRunsAsync(new ListRunsRequest { State = JobState.Succeeded });
        Assert.Equal(7, succeeded.Runs.Count);
        var failed = await runs.ListRunsAsync(new ListRunsRequest { State = JobState.Failed });
        Assert.Empty(failed.Runs);

        var status = await Rpc.FailsWith(StatusCode.InvalidArgument, () => runs.ListRunsAsync(new ListRunsRequest { PageToken = "garbage!" }).ResponseAsync);
        Assert.Equal("page_token", status.Detail<BadRequest>()!.FieldViolations.Single().Field);
        status = await Rpc.FailsWith(StatusCode.InvalidArgument, () => runs.ListRunsAsync(new ListRunsRequest { PageSize = 5000 }).ResponseAsync);
        Assert.Equal("page_size", status.Detail<BadRequest>()!.FieldViolations.Single().Field);
    }

    [Fact]
    public async Task CancelRun_stops_at_a_step_boundary_with_a_checkpoint_and_ResumeRun_continues_from_it()
    {
        var trainer = new FakeTrainer { Gate = new SemaphoreSlim(0) };
        await using var svc = await TestService.StartAsync(trainer: trainer);
        var runs = svc.Runs();
        await runs.CreateRunAsync(Rpc.Quick("stopper", steps: 10, every: 100));
        trainer.Gate.Release(3);
        await svc.WaitForAsync("stopper", r => r.Step == 3);
        var cancelling = await runs.CancelRunAsync(new CancelRunRequest { Name = "stopper" });
        Assert.Equal(JobState.Cancelling, cancelling.State);
        var cancelled = await svc.WaitForStateAsync("stopper", JobState.Cancelled);
        Assert.Equal(3, cancelled.Step);
        Assert.Equal("runs/stopper/checkpoints/step-3", cancelled.LastCheckpoint);

        var status = await Rpc.FailsWith(StatusCode.FailedPrecondition, () => runs.CancelRunAsync(new CancelRunRequest { Name = "stopper" }).ResponseAsync);
        Assert.Equal("STATE", status.Detail<PreconditionFailure>()!.Violations.Single().Type);

        trainer.Gate = null;
        var resumed = await runs.ResumeRunAsync(new ResumeRunRequest { Name = "stopper" });
        Assert.Equal(JobState.Queued, resumed.State);
        var done = await svc.WaitForStateAsync("stopper", JobState.Succeeded);
        Assert.Equal(10, done.Step);
        Assert.Equal(2, done.Attempts);
        Assert.Equal([("stopper", false, 0L), ("stopper", true, 3L)], trainer.Calls);
        await Rpc.FailsWith(StatusCode.FailedPrecondition, () => runs.ResumeRunAsync(new ResumeRunRequest { Name = "stopper" }).ResponseAsync);
    }

    [Fact]
    public async Task Cancelling_a_queued_run_removes_it_from_the_queue()
    {
        var trainer = new FakeTrainer { Gate = new SemaphoreSlim(0) };
        await using var svc = await TestService.StartAsync(trainer: trainer);
        var runs = svc.Runs();
        await runs.CreateRunAsync(Rpc.Quick("busy", steps: 3));
        await svc.WaitForStateAsync("busy", JobState.Running);
        await runs.CreateRunAsync(Rpc.Quick("waiting", steps: 3));
        var cancelled = await runs.CancelRunAsync(new CancelRunRequest { Name = "waiting" });
        Assert.Equal(JobState.Cancelled, cancelled.State);
        trainer.Gate.Release(3);
        await svc.WaitForStateAsync("busy", JobState.Succeeded);
        Assert.DoesNotContain(trainer.Calls, c => c.Run == "waiting");
    }

    [Fact]
    public async Task A_failing_trainer_marks_the_run_failed_with_its_reason()
    {
        var trainer = new FakeTrainer { FailWith = "preset 'huge' is unknown" };
        await using var svc = await TestService.StartAsync(trainer: trainer);
        await svc.Runs().CreateRunAsync(Rpc.Quick("doomed"));
        var failed = await svc.WaitForStateAsync("doomed", JobState.Failed);
        Assert.Equal("preset 'huge' is unknown", failed.FailureReason);
    }
}
