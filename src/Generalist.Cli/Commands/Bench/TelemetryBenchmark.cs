using System.Collections.Concurrent;
using System.Diagnostics;
using Generalist.Service.Api.V1;
using Generalist.Service.Hosting;
using Generalist.Torch;
using Generalist.Training;
using Generalist.Training.Loop;
using Grpc.Core;
using Grpc.Net.Client;
using Microsoft.AspNetCore.Builder;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Logging;
using Spectre.Console;
using Generalist.RunFormat;

namespace Generalist.Cli.Commands.Bench;

/// <summary>
/// `generalist bench --telemetry`: what telemetry and progress streaming cost per training step.
/// In one process and one run it alternates the real trainer without any progress sink ("bare")
/// and the same run through the service (metrics, registry, WatchRun to <see cref="Watchers"/>
/// gRPC streams, Prometheus exporter live). Reports medians of the step interval both ways, and
/// the median time spent inside the service's sink as a share of the step.
/// </summary>
public sealed class TelemetryBenchmark : IBenchmark
{
    public const int Watchers = 8;
    public const int StepsPerRun = 40;
    /// <summary>The first intervals include warm-up (allocations, first kernels); they are dropped.</summary>
    public const int WarmupSteps = 5;

    public string Flag => "telemetry";
    public string Description => "Telemetry + progress streaming cost as a % of training step time (steps with and without, in one run).";

    public async Task<object> RunAsync(BenchOptions options, CancellationToken cancellationToken)
    {
        TorchRuntime.EnsureLoaded();
        // The real trainer and model; seeded token batches instead of the task catalog, because a
        // step's cost depends on the shapes, and the question here is what happens around it.
        var timing = new TimingTrainer(new Trainer(new TrainerOptions { Data = new BenchTokenData() }));
        var root = Directory.CreateTempSubdirectory("generalist-bench-telemetry-").FullName;
        try
        {
            await using var app = GeneralistServiceHost.Build(new ServiceHostSettings
            {
                Configuration = new Dictionary<string, string?>
                {
                    ["Service:DataRoot"] = root,
                    ["Service:Port"] = "0",
                    ["Service:MetricsPort"] = "0",
                    ["Logging:LogLevel:Default"] = "Warning",
                },
                ConfigureServices = s => s.AddSingleton<ITrainer>(timing),
            });
            await app.StartAsync(cancellationToken);
            using var channel = GrpcChannel.ForAddress(app.Services.GetRequiredService<ServiceEndpoints>().GrpcAddress);
            var runs = new Runs.RunsClient(channel);
            var bare = new List<double>();
            var served = new List<double>();
            var sink = new List<double>();
            for (var rep = 0; rep < options.Repeats; rep++)
            {
                var config = Config(options, $"bare-{rep}");
                var dir = Path.Combine(root, "bare", config.Name);
                await timing.RunAsync(config, dir, resume: false, progress: null, cancellationToken);
                bare.Add(Median(timing.Intervals(config.Name)));

                config = Config(options, $"served-{rep}");
                await runs.CreateRunAsync(new CreateRunRequest { ConfigJson = config.ToJson() }, cancellationToken: cancellationToken);
                var watchers = Enumerable.Range(0, Watchers).Select(_ => WatchAsync(runs, config.Name, cancellationToken)).ToList();
                var final = (await Task.WhenAll(watchers)).Max();
                if (final != JobState.Succeeded)
                    throw new InvalidOperationException($"benchmark run {config.Name} ended {final}: {(await runs.GetRunAsync(new GetRunRequest { Name = config.Name })).FailureReason}");
                served.Add(Median(timing.Intervals(config.Name)));
                sink.Add(Median(timing.SinkSeconds(config.Name)));
            }
            var result = new
            {
                Preset = options.Preset,
                Device = options.Device,
                Repeats = options.Repeats,
                StepsPerRun = StepsPerRun,
                Watchers,
                MedianStepSecondsBare = Median(bare),
                MedianStepSecondsServed = Median(served),
                MedianSinkSecondsPerStep = Median(sink),
                SinkPercentOfStep = 100 * Median(sink) / Median(served),
                StepTimeDifferencePercent = 100 * (Median(served) - Median(bare)) / Median(bare),
            };
            if (!options.Json)
            {
                var table = new Table().AddColumns("measure", "median");
                table.AddRow("step, bare trainer (s)", $"{result.MedianStepSecondsBare:0.00000}");
                table.AddRow($"step, through the service with {Watchers} watchers (s)", $"{result.MedianStepSecondsServed:0.00000}");
                table.AddRow("time inside telemetry + streaming per step (s)", $"{result.MedianSinkSecondsPerStep:0.0000000}");
                table.AddRow("telemetry + streaming share of a step", $"{result.SinkPercentOfStep:0.000} %");
                table.AddRow("step time difference, served vs bare", $"{result.StepTimeDifferencePercent:+0.00;-0.00} %");
                Generalist.Cli.Output.CliTable.Write(table);
            }
            return result;
        }
        finally
        {
            try { Directory.Delete(root, true); } catch (IOException) { /* temp files */ }
        }
    }

    private static RunConfig Config(BenchOptions options, string name) => new()
    {
        Name = name,
        Preset = options.Preset,
        Device = options.Device,
        Steps = StepsPerRun + WarmupSteps,
        Checkpoint = new CheckpointConfig { Every = 0, KeepLast = 1 },
        HeldOut = new HeldOutConfig { Every = 0 },
    };

    private static async Task<JobState> WatchAsync(Runs.RunsClient runs, string name, CancellationToken ct)
    {
        using var call = runs.WatchRun(new WatchRunRequest { Name = name }, cancellationToken: ct);
        var state = JobState.Unspecified;
        await foreach (var e in call.ResponseStream.ReadAllAsync(ct))
        {
            if (e.EventCase == RunEvent.EventOneofCase.Snapshot) state = e.Snapshot.State;
            if (e.EventCase == RunEvent.EventOneofCase.State) state = e.State.State;
        }
        return state;
    }

    private static double Median(IReadOnlyList<double> values)
    {
        if (values.Count == 0) return double.NaN;
        var sorted = values.Order().ToArray();
        return sorted.Length % 2 == 1 ? sorted[sorted.Length / 2] : (sorted[sorted.Length / 2 - 1] + sorted[sorted.Length / 2]) / 2;
    }

    /// <summary>Wraps the trainer's progress: stamps every step and times the sink it forwards to.</summary>
    private sealed class TimingTrainer(ITrainer inner) : ITrainer
    {
        private readonly ConcurrentDictionary<string, Stamps> _runs = new();

        public List<double> Intervals(string run) => _runs[run].Intervals;
        public List<double> SinkSeconds(string run) => _runs[run].Sink;

        public Task<TrainingResult> RunAsync(RunConfig config, string runDirectory, bool resume, IProgress<TrainingEvent>? progress, CancellationToken cancellationToken)
        {
            var stamps = _runs[config.Name] = new Stamps(progress);
            return inner.RunAsync(config, runDirectory, resume, stamps, cancellationToken);
        }

        private sealed class Stamps(IProgress<TrainingEvent>? forward) : IProgress<TrainingEvent>
        {
            private long _previous;
            private int _steps;
            public List<double> Intervals { get; } = [];
            public List<double> Sink { get; } = [];

            public void Report(TrainingEvent value)
            {
                var start = Stopwatch.GetTimestamp();
                forward?.Report(value);
                var end = Stopwatch.GetTimestamp();
                if (value is not StepCompleted) return;
                if (++_steps > WarmupSteps)
                {
                    Intervals.Add(Stopwatch.GetElapsedTime(_previous, start).TotalSeconds);
                    Sink.Add(Stopwatch.GetElapsedTime(start, end).TotalSeconds);
                }
                _previous = start;
            }
        }
    }
}
