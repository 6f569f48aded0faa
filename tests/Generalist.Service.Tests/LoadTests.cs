using System.Collections.Concurrent;
using Generalist.Service.Api.V1;
using Generalist.Service.Registry;
using Grpc.Core;
using Xunit.Abstractions;

namespace Generalist.Service.Tests;

public class LoadTests(ITestOutputHelper output)
{
    private const int Watchers = 200;
    private const int Creators = 50;
    private const int LongSteps = 400;

    [Fact]
    public async Task Two_hundred_watch_streams_and_fifty_creates_are_all_answered_and_the_registry_is_complete()
    {
        var trainer = new FakeTrainer { StepDelay = TimeSpan.FromMilliseconds(1) };
        await using var svc = await TestService.StartAsync(new() { ["Service:QueueCapacity"] = "100" }, trainer: trainer);
        var runs = svc.Runs();

        // Baseline: the same run with nobody watching and nothing else arriving.
        await runs.CreateRunAsync(Rpc.Quick("baseline", steps: LongSteps, every: 100));
        var baseline = await svc.WaitForStateAsync("baseline", JobState.Succeeded);

        await runs.CreateRunAsync(Rpc.Quick("loaded", steps: LongSteps, every: 100));
        var streams = Enumerable.Range(0, Watchers).Select(_ => WatchToEndAsync(svc, "loaded")).ToList();
        var creates = Enumerable.Range(0, Creators).Select(i => svc.Runs().CreateRunAsync(Rpc.Quick($"burst-{i:D2}", steps: 3)).ResponseAsync).ToList();
        var created = await Task.WhenAll(creates);
        var watched = await Task.WhenAll(streams);

        Assert.All(created, r => Assert.Equal(JobState.Queued, r.State));
        Assert.All(watched, w =>
        {
            Assert.Equal(JobState.Succeeded, w.Final);
            Assert.True(w.Steps.SequenceEqual(w.Steps.Order()), "steps arrived out of order");
            Assert.Equal(LongSteps, w.Steps.Count == 0 ? LongSteps : w.Steps[^1]);
        });
        for (var i = 0; i < Creators; i++) await svc.WaitForStateAsync($"burst-{i:D2}", JobState.Succeeded);
        var registry = svc.Service<RunRegistry>();
        Assert.Equal(Creators + 2, registry.CountRuns());
        Assert.All(registry.ListRuns(0, 1000, null, "burst-"), r => Assert.Equal(3, r.Step));

        var loaded = await runs.GetRunAsync(new GetRunRequest { Name = "loaded" });
        double Rate(Run r) => r.TotalSteps / (r.EndTime.ToDateTime() - r.StartTime.ToDateTime()).TotalSeconds;
        var drop = 1 - Rate(loaded) / Rate(baseline);
        output.WriteLine($"steps/s without load {Rate(baseline):F0}, with {Watchers} watchers + {Creators} creates {Rate(loaded):F0}: throughput drop {drop:P1} " +
                         $"(events per watcher: median {watched.Select(w => w.Events).Order().ElementAt(Watchers / 2)})");
    }

    private static async Task<(JobState Final, List<long> Steps, int Events)> WatchToEndAsync(TestService svc, string run)
    {
        using var call = svc.Runs().WatchRun(new WatchRunRequest { Name = run });
        var final = JobState.Unspecified;
        var steps = new List<long>();
        var events = 0;
        await foreach (var e in call.ResponseStream.ReadAllAsync())
        {
            events++;
            if (e.EventCase == RunEvent.EventOneofCase.Step) steps.Add(e.Step.Step);
            if (e.EventCase == RunEvent.EventOneofCase.State) final = e.State.State;
            if (e.EventCase == RunEvent.EventOneofCase.Snapshot) final = e.Snapshot.State;
        }
        return (final, steps, events);
    }
}
