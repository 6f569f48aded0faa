using System.Diagnostics;
using Generalist.Service.Api.V1;
using Generalist.Service.Registry;
using Generalist.Service.Tests;
using Grpc.Core;
using Xunit.Abstractions;

namespace Generalist.Reliability.Tests;

/// <summary>
/// Issue 10, scenario 9: 200 concurrent WatchRun streams and 50 concurrent CreateRun calls against
/// one service (in-memory transport, a trainer double that steps every millisecond): every call is
/// answered, nothing is lost from the registry, and the training throughput drop is reported.
/// </summary>
public class Scenario09Load(ITestOutputHelper output)
{
    private const int Watchers = 200;
    private const int Creators = 50;
    private const int LongSteps = 400;

    [Fact]
    public async Task Two_hundred_watch_streams_and_fifty_creates_are_all_answered_and_the_registry_is_complete()
    {
        var figures = new Figures(output, "9");
        var trainer = new FakeTrainer { StepDelay = TimeSpan.FromMilliseconds(1) };
        await using var svc = await TestService.StartAsync(new() { ["Service:QueueCapacity"] = "100" }, trainer: trainer);
        var runs = svc.Runs();

        // Baseline: the same run with nobody watching and nothing else arriving.
        await runs.CreateRunAsync(Rpc.Quick("baseline", steps: LongSteps, every: 100));
        var baseline = await svc.WaitForStateAsync("baseline", JobState.Succeeded);

        await runs.CreateRunAsync(Rpc.Quick("loaded", steps: LongSteps, every: 100));
        var streams = Enumerable.Range(0, Watchers).Select(_ => WatchToEndAsync(svc, "loaded")).ToList();
        var creates = Enumerable.Range(0, Creators).Select(i => TimedAsync(() => svc.Runs().CreateRunAsync(Rpc.Quick($"burst-{i:D2}", steps: 3)).ResponseAsync)).ToList();
        var created = await Task.WhenAll(creates);
        var watched = await Task.WhenAll(streams);

        Assert.All(created, r => Assert.Equal(JobState.Queued, r.Result.State));
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
        figures.Add("calls answered", created.Length + watched.Length, "calls", $"of {Creators} CreateRun + {Watchers} WatchRun");
        figures.Add("runs in the registry afterwards", registry.CountRuns(), "runs", $"expected {Creators + 2}");
        figures.Add("CreateRun latency p50", Percentile(created.Select(c => c.Latency), 0.50), "ms");
        figures.Add("CreateRun latency p99", Percentile(created.Select(c => c.Latency), 0.99), "ms");
        figures.Add("WatchRun first event p50", Percentile(watched.Select(w => w.FirstEvent), 0.50), "ms");
        figures.Add("WatchRun first event p99", Percentile(watched.Select(w => w.FirstEvent), 0.99), "ms");
        figures.Add("events per watcher (median)", watched.Select(w => w.Events).Order().ElementAt(Watchers / 2), "events");
        figures.Add("training steps/s without load", Rate(baseline), "steps/s");
        figures.Add("training steps/s under load", Rate(loaded), "steps/s");
        figures.Add("training throughput drop", 100 * drop, "%");
    }

    private static double Percentile(IEnumerable<double> values, double q)
    {
        var sorted = values.Order().ToArray();
        return sorted[(int)Math.Min(sorted.Length - 1, Math.Ceiling(q * sorted.Length) - 1)];
    }

    private static async Task<(T Result, double Latency)> TimedAsync<T>(Func<Task<T>> call)
    {
        var clock = Stopwatch.StartNew();
        var result = await call();
        return (result, clock.Elapsed.TotalMilliseconds);
    }

    private static async Task<(JobState Final, List<long> Steps, int Events, double FirstEvent)> WatchToEndAsync(TestService svc, string run)
    {
        var clock = Stopwatch.StartNew();
        double first = -1;
        using var call = svc.Runs().WatchRun(new WatchRunRequest { Name = run });
        var final = JobState.Unspecified;
        var steps = new List<long>();
        var events = 0;
        await foreach (var e in call.ResponseStream.ReadAllAsync())
        {
            if (events++ == 0) first = clock.Elapsed.TotalMilliseconds;
            if (e.EventCase == RunEvent.EventOneofCase.Step) steps.Add(e.Step.Step);
            if (e.EventCase == RunEvent.EventOneofCase.State) final = e.State.State;
            if (e.EventCase == RunEvent.EventOneofCase.Snapshot) final = e.Snapshot.State;
        }
        return (final, steps, events, first);
    }
}
