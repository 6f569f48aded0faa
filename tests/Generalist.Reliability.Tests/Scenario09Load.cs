using System.Diagnostics;
using Generalist.Service.Api.V1;
using Generalist.Service.Registry;
using JobState = Generalist.Service.Api.V1.JobState;
using Generalist.Service.Tests;
using Grpc.Core;
using Grpc.Net.Client;
using Xunit.Abstractions;
using CliChild = Generalist.Service.Tests.Cli;
using Generalist.RunFormat;

namespace Generalist.Reliability.Tests;

/// <summary>
/// Issue 10, scenario 9: 200 concurrent WatchRun streams and 50 concurrent CreateRun calls against
/// one service (in-memory transport, a trainer double that steps every millisecond): every call is
/// answered, nothing is lost from the registry, and the training throughput drop is reported.
/// The Slow variant does the same against a real `generalist serve` child training the tiny model,
/// so the drop is that of real training steps sharing the machine with the streams.
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

    [Fact]
    [Trait("Category", "Slow")]
    public async Task A_real_service_training_the_tiny_model_answers_200_watchers_and_50_creates()
    {
        var figures = new Figures(output, "9");
        var root = Directory.CreateTempSubdirectory("generalist-serve-load-").FullName;
        using var serve = CliChild.Start("serve", "--data-root", root, "--port", "0", "--metrics-port", "0", "--queue-capacity", "64");
        try
        {
            var (grpc, _) = await CliChild.WaitUntilListeningAsync(serve);
            _ = serve.StandardError.ReadToEndAsync();
            // 200 streams exceed one HTTP/2 connection's 100 concurrent streams: let the client open more.
            using var channel = GrpcChannel.ForAddress(grpc, new GrpcChannelOptions { HttpHandler = new SocketsHttpHandler { EnableMultipleHttp2Connections = true } });
            var runs = new Runs.RunsClient(channel);
            string Config(string name, int steps) => new RunConfig
            {
                Name = name, Preset = "tiny", Tasks = [new("icl-regression")], Steps = steps, BatchSize = 2, Threads = 1, PeakFlops = 1e11,
                Checkpoint = new CheckpointConfig { Every = 0 }, HeldOut = new HeldOutConfig { Every = 0 },
            }.ToJson();
            const int RealSteps = 30;

            // A first run pays the process's one-time costs (JIT, first allocations), so it is not the baseline.
            await runs.CreateRunAsync(new CreateRunRequest { ConfigJson = Config("warm-up", 10) });
            Assert.Equal(JobState.Succeeded, (await WatchToEndAsync(runs, "warm-up")).Final);
            await runs.CreateRunAsync(new CreateRunRequest { ConfigJson = Config("baseline", RealSteps) });
            var baseline = await WatchToEndAsync(runs, "baseline");

            await runs.CreateRunAsync(new CreateRunRequest { ConfigJson = Config("loaded", RealSteps) });
            var streams = Enumerable.Range(0, Watchers).Select(_ => WatchToEndAsync(runs, "loaded")).ToList();
            var creates = Enumerable.Range(0, Creators)
                .Select(i => TimedAsync(() => runs.CreateRunAsync(new CreateRunRequest { ConfigJson = Config($"burst-{i:D2}", 1) }).ResponseAsync)).ToList();
            var created = await Task.WhenAll(creates);
            var watched = await Task.WhenAll(streams);

            Assert.Equal(JobState.Succeeded, baseline.Final);
            Assert.All(watched, w =>
            {
                Assert.Equal(JobState.Succeeded, w.Final);
                Assert.True(w.Steps.SequenceEqual(w.Steps.Order()), "steps arrived out of order");
                Assert.Equal(RealSteps, w.Steps[^1]);
            });
            var listed = await runs.ListRunsAsync(new ListRunsRequest { PageSize = 100 });
            Assert.Equal(Creators + 3, listed.Runs.Count);
            Assert.Equal(Enumerable.Range(0, Creators).Select(i => $"burst-{i:D2}"), listed.Runs.Where(r => r.Name.StartsWith("burst-")).Select(r => r.Name).Order());

            // The 50 queued runs are not what is measured: cancel them rather than train them all.
            foreach (var r in listed.Runs.Where(r => r.Name.StartsWith("burst-")))
            {
                try { await runs.CancelRunAsync(new CancelRunRequest { Name = r.Name }); }
                catch (RpcException e) when (e.StatusCode == StatusCode.FailedPrecondition) { } // it already ended
            }
            var clock = Stopwatch.StartNew();
            while (clock.Elapsed < TimeSpan.FromSeconds(120))
            {
                var states = (await runs.ListRunsAsync(new ListRunsRequest { PageSize = 100 })).Runs.Select(r => r.State).ToList();
                if (states.All(s => s is JobState.Succeeded or JobState.Cancelled or JobState.Interrupted)) break;
                await Task.Delay(200);
            }

            var baseStep = Median(baseline.StepSeconds);
            var loadedStep = Median(watched[0].StepSeconds);
            figures.Add("real service: calls answered", created.Length + watched.Length, "calls", $"of {Creators} CreateRun + {Watchers} WatchRun");
            figures.Add("real service: runs in the registry afterwards", listed.Runs.Count, "runs", $"expected {Creators + 3} (with the warm-up run)");
            figures.Add("real service: CreateRun latency p50", Percentile(created.Select(c => c.Latency), 0.50), "ms");
            figures.Add("real service: CreateRun latency p99", Percentile(created.Select(c => c.Latency), 0.99), "ms");
            figures.Add("real service: WatchRun first event p50", Percentile(watched.Select(w => w.FirstEvent), 0.50), "ms");
            figures.Add("real service: WatchRun first event p99", Percentile(watched.Select(w => w.FirstEvent), 0.99), "ms");
            figures.Add("real service: median training step alone", 1000 * baseStep, "ms", $"tiny preset, batch 2, 1 thread, {RealSteps} steps");
            figures.Add("real service: median training step under load", 1000 * loadedStep, "ms");
            figures.Add("real service: training throughput drop", 100 * (1 - baseStep / loadedStep), "%");

            Process.Start("kill", ["-TERM", serve.Id.ToString()]).WaitForExit();
            Assert.True(serve.WaitForExit(60_000), "serve did not stop on SIGTERM");
        }
        finally
        {
            if (!serve.HasExited) serve.Kill();
            TestService.TryDelete(root);
        }
    }

    private static double Median(IReadOnlyList<double> values) => values.Order().ElementAt(values.Count / 2);

    private static async Task<(JobState Final, List<long> Steps, List<double> StepSeconds, double FirstEvent)> WatchToEndAsync(Runs.RunsClient runs, string run)
    {
        var clock = Stopwatch.StartNew();
        double first = -1;
        using var call = runs.WatchRun(new WatchRunRequest { Name = run }, deadline: DateTime.UtcNow.AddSeconds(300));
        var final = JobState.Unspecified;
        var steps = new List<long>();
        var seconds = new List<double>();
        await foreach (var e in call.ResponseStream.ReadAllAsync())
        {
            if (first < 0) first = clock.Elapsed.TotalMilliseconds;
            if (e.EventCase == RunEvent.EventOneofCase.Step)
            {
                steps.Add(e.Step.Step);
                seconds.Add(e.Step.StepSeconds);
            }
            if (e.EventCase == RunEvent.EventOneofCase.State) final = e.State.State;
            if (e.EventCase == RunEvent.EventOneofCase.Snapshot) final = e.Snapshot.State;
        }
        return (final, steps, seconds, first);
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
