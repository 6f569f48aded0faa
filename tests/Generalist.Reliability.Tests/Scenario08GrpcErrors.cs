using Generalist.Service.Api.V1;
using Generalist.Service.Tests;
using Google.Rpc;
using Grpc.Core;
using Grpc.Health.V1;

namespace Generalist.Reliability.Tests;

/// <summary>
/// Issue 10, scenario 8: a missing or wrong API key gets UNAUTHENTICATED, an oversized message or a
/// full queue RESOURCE_EXHAUSTED, an unknown run NOT_FOUND, each with its google.rpc details.
/// </summary>
public class Scenario08GrpcErrors
{
    private const string Key = "k3y-0123456789abcdef";

    [Fact]
    public async Task With_an_API_key_configured_every_RPC_needs_it()
    {
        await using var svc = await TestService.StartAsync(new() { ["Service:ApiKey"] = Key });
        var status = await Rpc.FailsWith(StatusCode.Unauthenticated, () => svc.Runs().ListRunsAsync(new ListRunsRequest()).ResponseAsync);
        Assert.Equal("API_KEY_INVALID", status.Detail<ErrorInfo>()!.Reason);
        await Rpc.FailsWith(StatusCode.Unauthenticated, () => svc.Runs("Bearer wrong-key-0123456789").ListRunsAsync(new ListRunsRequest()).ResponseAsync);
        await Rpc.FailsWith(StatusCode.Unauthenticated, () => svc.Runs(Key).ListRunsAsync(new ListRunsRequest()).ResponseAsync); // no scheme
        await Rpc.FailsWith(StatusCode.Unauthenticated, () => svc.Runs("Bearer " + Key[..^1]).ListRunsAsync(new ListRunsRequest()).ResponseAsync);
        await Rpc.FailsWith(StatusCode.Unauthenticated, () => svc.Runs().CreateRunAsync(Rpc.Quick("sneaky")).ResponseAsync);
        await Rpc.FailsWith(StatusCode.Unauthenticated, async () =>
        {
            using var w = svc.Runs().WatchRun(new WatchRunRequest { Name = "sneaky" });
            await w.ResponseStream.MoveNext();
        });
        await Rpc.FailsWith(StatusCode.Unauthenticated, () => new Health.HealthClient(svc.Invoker()).CheckAsync(new HealthCheckRequest()).ResponseAsync);

        var ok = await svc.Runs("Bearer " + Key).CreateRunAsync(Rpc.Quick("allowed", steps: 1));
        Assert.Equal("allowed", ok.Name);
        var health = await new Health.HealthClient(svc.Invoker("Bearer " + Key)).CheckAsync(new HealthCheckRequest());
        Assert.Equal(HealthCheckResponse.Types.ServingStatus.Serving, health.Status);
        Assert.Single((await svc.Runs("bearer " + Key).ListRunsAsync(new ListRunsRequest())).Runs);
    }

    [Fact]
    public async Task Unknown_runs_get_NOT_FOUND_from_every_call()
    {
        await using var svc = await TestService.StartAsync();
        var runs = svc.Runs();
        var status = await Rpc.FailsWith(StatusCode.NotFound, () => runs.GetRunAsync(new GetRunRequest { Name = "ghost" }).ResponseAsync);
        Assert.Equal("run", status.Detail<ResourceInfo>()!.ResourceType);
        await Rpc.FailsWith(StatusCode.NotFound, () => runs.CancelRunAsync(new CancelRunRequest { Name = "ghost" }).ResponseAsync);
        await Rpc.FailsWith(StatusCode.NotFound, () => runs.ResumeRunAsync(new ResumeRunRequest { Name = "ghost" }).ResponseAsync);
        await Rpc.FailsWith(StatusCode.NotFound, async () =>
        {
            using var watch = runs.WatchRun(new WatchRunRequest { Name = "ghost" });
            await watch.ResponseStream.MoveNext();
        });
        await Rpc.FailsWith(StatusCode.NotFound, () => svc.Checkpoints().ListCheckpointsAsync(new ListCheckpointsRequest { Run = "ghost" }).ResponseAsync);
        await Rpc.FailsWith(StatusCode.NotFound, () => svc.Checkpoints().GetCheckpointAsync(new GetCheckpointRequest { Run = "ghost" }).ResponseAsync);
    }

    [Fact]
    public async Task A_full_queue_gets_RESOURCE_EXHAUSTED_and_nothing_is_registered()
    {
        var trainer = new FakeTrainer { Gate = new SemaphoreSlim(0) };
        await using var svc = await TestService.StartAsync(new() { ["Service:QueueCapacity"] = "1", ["Service:MaxConcurrentRuns"] = "1" }, trainer: trainer);
        var runs = svc.Runs();
        await runs.CreateRunAsync(Rpc.Quick("one", steps: 2));
        await svc.WaitForStateAsync("one", JobState.Running);
        await runs.CreateRunAsync(Rpc.Quick("two", steps: 2));
        var status = await Rpc.FailsWith(StatusCode.ResourceExhausted, () => runs.CreateRunAsync(Rpc.Quick("three", steps: 2)).ResponseAsync);
        Assert.Equal("queue", status.Detail<QuotaFailure>()!.Violations.Single().Subject);
        await Rpc.FailsWith(StatusCode.NotFound, () => runs.GetRunAsync(new GetRunRequest { Name = "three" }).ResponseAsync);
        trainer.Gate.Release(10);
        await svc.WaitForStateAsync("two", JobState.Succeeded);
        await runs.CreateRunAsync(Rpc.Quick("three", steps: 2)); // room again
        await svc.WaitForStateAsync("three", JobState.Succeeded);
    }

    [Fact]
    public async Task An_oversized_message_gets_RESOURCE_EXHAUSTED()
    {
        await using var svc = await TestService.StartAsync(new() { ["Service:MaxMessageBytes"] = "2048" });
        var runs = new Runs.RunsClient(svc.Invoker());
        var huge = new CreateRunRequest { Name = "huge", ConfigJson = "{" + new string(' ', 4096) + "}" };
        await Rpc.FailsWith(StatusCode.ResourceExhausted, () => runs.CreateRunAsync(huge).ResponseAsync);
        await Rpc.FailsWith(StatusCode.NotFound, () => runs.GetRunAsync(new GetRunRequest { Name = "huge" }).ResponseAsync);
    }
}
