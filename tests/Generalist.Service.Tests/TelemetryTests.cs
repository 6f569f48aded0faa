using System.Diagnostics.Metrics;
using Generalist.Service.Api.V1;
using Generalist.Service.Telemetry;
using Generalist.Training;
using Grpc.Core;
using Grpc.Health.V1;
using Grpc.Reflection.V1Alpha;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Diagnostics.Metrics.Testing;
using Generalist.RunFormat;

namespace Generalist.Service.Tests;

[Collection(MetricsScrape.Name)]
public class TelemetryTests
{
    // Labels every sample carries from the SDK (the meter), not from our attributes.
    private static readonly HashSet<string> SdkLabels = ["otel_scope_name", "otel_scope_version", "le"];

    /// <summary>MetricCollector on the service's IMeterFactory: only this service's measurements, whatever else runs in the process.</summary>
    [Fact]
    public async Task Counters_and_histograms_carry_the_values_and_bounded_attributes_of_each_step()
    {
        await using var svc = await TestService.StartAsync();
        var meters = svc.Service<IMeterFactory>();
        using var tokens = new MetricCollector<long>(meters, TelemetryNames.TrainingMeter, TelemetryNames.TrainTokens);
        using var steps = new MetricCollector<long>(meters, TelemetryNames.TrainingMeter, TelemetryNames.TrainSteps);
        using var checkpoints = new MetricCollector<long>(meters, TelemetryNames.TrainingMeter, TelemetryNames.TrainCheckpoints);
        using var duration = new MetricCollector<double>(meters, TelemetryNames.TrainingMeter, TelemetryNames.TrainStepDuration);
        using var phases = new MetricCollector<double>(meters, TelemetryNames.TrainingMeter, TelemetryNames.TrainPhaseDuration);
        using var ended = new MetricCollector<long>(meters, TelemetryNames.ServiceMeter, TelemetryNames.RunsEnded);
        using var score = new MetricCollector<double>(meters, TelemetryNames.EvaluationMeter, TelemetryNames.EvalScore);

        await svc.Runs().CreateRunAsync(Rpc.Quick("metered", steps: 5, every: 2));
        await svc.WaitForStateAsync("metered", JobState.Succeeded);

        Assert.Equal(5L * 8 * FakeTrainer.TokensPerSequence, tokens.GetMeasurementSnapshot().Sum(m => m.Value));
        Assert.Equal(5, steps.GetMeasurementSnapshot().Sum(m => m.Value));
        Assert.Equal(3, checkpoints.GetMeasurementSnapshot().Sum(m => m.Value)); // steps 2, 4 and the final 5
        Assert.Equal("{token}", tokens.Instrument!.Unit);
        Assert.Equal("s", duration.Instrument!.Unit);
        // The fake's phases: data 1 ms, forward 2, backward 3, optimizer 1; one process, so no all-reduce.
        Assert.Equal(Enumerable.Repeat(0.007, 5), duration.GetMeasurementSnapshot().Select(m => Math.Round(m.Value, 9)));
        Assert.Equal(["backward", "data", "forward", "optimizer"], phases.GetMeasurementSnapshot().Select(m => (string)m.Tags["phase"]!).Distinct().Order());
        Assert.Equal(0.003, phases.GetMeasurementSnapshot().First(m => (string?)m.Tags["phase"] == "backward").Value);
        foreach (var m in tokens.GetMeasurementSnapshot().Concat(steps.GetMeasurementSnapshot()))
            Assert.Equal(["run"], m.Tags.Keys);
        Assert.All(duration.GetMeasurementSnapshot(), m => Assert.Equal("metered", m.Tags["run"]));
        Assert.Equal(1, ended.GetMeasurementSnapshot().Where(m => (string?)m.Tags["state"] == "succeeded").Sum(m => m.Value));

        await svc.Evaluations().CreateEvaluationAsync(new CreateEvaluationRequest { Run = "metered", Name = "scored", Suite = "control" });
        var deadline = DateTime.UtcNow.AddSeconds(20);
        while (score.GetMeasurementSnapshot().Count == 0 && DateTime.UtcNow < deadline) await Task.Delay(10);
        var s = Assert.Single(score.GetMeasurementSnapshot());
        Assert.Equal(62.5, s.Value);
        Assert.Equal("cartpole", s.Tags["task"]);
        Assert.Equal("control", s.Tags["suite"]);
    }

    [Fact]
    public async Task Train_loss_is_a_gauge_per_task_while_the_run_trains_and_its_levels_leave_with_it()
    {
        var trainer = new FakeTrainer { Gate = new SemaphoreSlim(0) };
        await using var svc = await TestService.StartAsync(trainer: trainer);
        await svc.Runs().CreateRunAsync(Rpc.Quick("scraped", steps: 5));
        trainer.Gate.Release(3);
        await svc.WaitForAsync("scraped", r => r.Step >= 3);
        using var http = svc.Server.CreateClient();

        var during = new PrometheusText(await http.GetStringAsync("/metrics"));
        Assert.Equal("gauge", during.Types["generalist_train_loss"]);
        Assert.Equal(FakeTrainer.LossAt(1, 3, 0), during.Value("generalist_train_loss", ("run", "scraped"), ("task", "cartpole"))!.Value, 9);
        Assert.Equal(FakeTrainer.LossAt(1, 3, 1), during.Value("generalist_train_loss", ("run", "scraped"), ("task", "text"))!.Value, 9);
        Assert.NotNull(during.Value("generalist_train_loss", ("run", "scraped"), ("task", "all")));
        Assert.Equal(1e-3, during.Value("generalist_train_learning_rate", ("run", "scraped")));
        Assert.Equal(1, during.Value("generalist_runs_active", ("run", "scraped")));
        Assert.Equal(3 * 8 * FakeTrainer.TokensPerSequence, during.Value("generalist_train_tokens_total", ("run", "scraped")));
        // The step duration histogram has the fitting buckets, not the SDK's 0, 5, 10, ... 10000.
        Assert.Equal(TelemetryBuckets.Step.Length + 1, during.Samples.Count(x => x.Name == "generalist_train_step_duration_seconds_bucket" && x.Labels.GetValueOrDefault("run") == "scraped"));
        Assert.Equal(3, during.Value("generalist_train_step_duration_seconds_bucket", ("run", "scraped"), ("le", "0.01")));
        Assert.True(during.Text.Contains("dotnet_gc_collections") || during.Text.Contains("process_runtime_dotnet_gc_collections"), "runtime metrics missing:\n" + during.Text);

        trainer.Gate.Release(2);
        await svc.WaitForStateAsync("scraped", JobState.Succeeded);
        // OpenTelemetry's listener is per process, so services of tests running beside this one
        // may add their own series: look at this run's only (counts without a run are checked
        // with a MetricCollector above, which sees this service's meters alone).
        var after = new PrometheusText(await http.GetStringAsync("/metrics"));
        Assert.DoesNotContain(after.Family("generalist_train_loss"), s => s.Labels.GetValueOrDefault("run") == "scraped");
        Assert.DoesNotContain(after.Family("generalist_runs_active"), s => s.Labels.GetValueOrDefault("run") == "scraped");
        Assert.Equal(5 * 8 * FakeTrainer.TokensPerSequence, after.Value("generalist_train_tokens_total", ("run", "scraped")));
        Assert.True(after.Value("generalist_runs_ended_total", ("state", "succeeded")) >= 1, after.Text);
        Assert.NotNull(after.Value("generalist_runs_ended_total", ("state", "failed")));

        var health = await http.GetAsync("/healthz");
        Assert.True(health.IsSuccessStatusCode);
        Assert.Equal("Healthy", await health.Content.ReadAsStringAsync());
    }

    [Fact]
    public async Task The_README_table_lists_every_series_of_slash_metrics_with_its_kind_and_attributes()
    {
        var trainer = new EveryEventTrainer();
        // Two workers: the evaluation runs while the run holds its live levels.
        await using var svc = await TestService.StartAsync(new() { ["Service:MaxConcurrentRuns"] = "2" }, configure: s => s.AddSingleton<ITrainer>(trainer));
        await svc.Runs().CreateRunAsync(Rpc.Quick("tabled", steps: 3));
        await trainer.Reported.Task.WaitAsync(TimeSpan.FromSeconds(20));
        await svc.Evaluations().CreateEvaluationAsync(new CreateEvaluationRequest { Run = "tabled", Name = "tabled-eval", Suite = "control" });
        var deadline = DateTime.UtcNow.AddSeconds(20);
        while ((await svc.Evaluations().GetEvaluationAsync(new GetEvaluationRequest { Name = "tabled-eval" })).State != JobState.Succeeded)
        {
            Assert.True(DateTime.UtcNow < deadline, "the evaluation did not succeed within 20 s");
            await Task.Delay(10);
        }
        using var http = svc.Server.CreateClient();
        var scrape = new PrometheusText(await http.GetStringAsync("/metrics"));
        trainer.Release.TrySetResult();
        var table = TelemetryTable.Read();

        var ours = scrape.Types.Keys.Where(k => k.StartsWith("generalist_", StringComparison.Ordinal)).Order().ToList();
        Assert.Equal(ours, table.Select(r => r.Series).Where(n => n.StartsWith("generalist_", StringComparison.Ordinal)).Order().ToList());
        foreach (var row in table)
        {
            Assert.True(scrape.Types.TryGetValue(row.Series, out var kind), $"{row.Series} is in the README table but not in /metrics:\n{scrape.Text}");
            Assert.True(row.Kind == kind, $"{row.Series}: README says {row.Kind}, /metrics says {kind}");
            var samples = scrape.Family(row.Series).ToList();
            Assert.True(samples.Count > 0, $"{row.Series} has a TYPE but no samples");
            var labels = samples.SelectMany(s => s.Labels.Keys).Where(k => !SdkLabels.Contains(k)).ToHashSet();
            if (row.Series.StartsWith("generalist_", StringComparison.Ordinal))
                Assert.True(labels.SetEquals(row.Attributes), $"{row.Series}: README says attributes [{string.Join(", ", row.Attributes)}], /metrics has [{string.Join(", ", labels)}]");
            else
                Assert.True(labels.IsSubsetOf(row.Attributes), $"{row.Series}: /metrics has [{string.Join(", ", labels)}], README lists [{string.Join(", ", row.Attributes)}]");
            // Never a step: no attribute may take as many values as there were steps.
            Assert.DoesNotContain("step", labels);
        }
        Assert.Equal(2.0, scrape.Value("generalist_train_held_out_loss", ("run", "tabled"), ("task", "cartpole")));
        Assert.Equal(1, scrape.Value("generalist_train_skipped_steps_total", ("run", "tabled")));
        Assert.Equal(1, scrape.Value("generalist_train_phase_duration_seconds_count", ("run", "tabled"), ("phase", "allreduce")));
        Assert.Equal(62.5, scrape.Value("generalist_eval_score", ("task", "cartpole"), ("suite", "control")));
        // The newest step was skipped: its non-finite losses are not levels and are left out, its finite one stays.
        Assert.Null(scrape.Value("generalist_train_loss", ("run", "tabled"), ("task", "cartpole")));
        Assert.Null(scrape.Value("generalist_train_loss", ("run", "tabled"), ("task", "all")));
        Assert.Equal(3.4, scrape.Value("generalist_train_loss", ("run", "tabled"), ("task", "text")));
    }

    [Fact]
    public async Task gRPC_health_and_reflection_answer()
    {
        await using var svc = await TestService.StartAsync();
        var health = await new Health.HealthClient(svc.Invoker()).CheckAsync(new HealthCheckRequest());
        Assert.Equal(HealthCheckResponse.Types.ServingStatus.Serving, health.Status);

        using var call = new ServerReflection.ServerReflectionClient(svc.Invoker()).ServerReflectionInfo();
        await call.RequestStream.WriteAsync(new ServerReflectionRequest { ListServices = "" });
        await call.RequestStream.CompleteAsync();
        Assert.True(await call.ResponseStream.MoveNext());
        var services = call.ResponseStream.Current.ListServicesResponse.Service.Select(s => s.Name).ToList();
        foreach (var name in new[] { "generalist.v1.Runs", "generalist.v1.Evaluations", "generalist.v1.Studies", "generalist.v1.Checkpoints", "grpc.health.v1.Health" })
            Assert.Contains(name, services);
    }

    /// <summary>
    /// A trainer double that reports one of every event the metrics are made from (a step with an
    /// all-reduce, held-out losses, a timed checkpoint, a skipped step with a NaN loss), then holds
    /// the run until released, so its levels are live when the test scrapes.
    /// </summary>
    private sealed class EveryEventTrainer : ITrainer
    {
        public TaskCompletionSource Reported { get; } = new(TaskCreationOptions.RunContinuationsAsynchronously);
        public TaskCompletionSource Release { get; } = new(TaskCreationOptions.RunContinuationsAsynchronously);

        public async Task<TrainingResult> RunAsync(RunConfig config, string runDirectory, bool resume, IProgress<TrainingEvent>? progress, CancellationToken cancellationToken)
        {
            var checkpoint = Path.Combine(runDirectory, "checkpoints", "step-1");
            Directory.CreateDirectory(checkpoint);
            var losses = new Dictionary<string, double> { ["cartpole"] = 2.5, ["text"] = 3.5 };
            progress?.Report(new StepCompleted(1, config.Steps, 3.0, losses, 1e-3, 0.5, 512, 1000, 0.01, 0.001, 0.002, 0.003, 0.001, false, SyncSeconds: 0.004));
            progress?.Report(new HeldOutEvaluated(1, new Dictionary<string, double> { ["cartpole"] = 2.0, ["text"] = 3.0 }));
            progress?.Report(new CheckpointWritten(1, checkpoint, WriteSeconds: 0.02));
            progress?.Report(new StepCompleted(2, config.Steps, double.NaN, new Dictionary<string, double> { ["cartpole"] = double.NaN, ["text"] = 3.4 },
                1e-3, 1e6, 1024, 1000, 0.01, 0.001, 0.002, 0.003, 0.001, true));
            Reported.TrySetResult();
            await Release.Task.WaitAsync(cancellationToken);
            return new TrainingResult(TrainingOutcome.Completed, 2, checkpoint, null);
        }
    }
}
