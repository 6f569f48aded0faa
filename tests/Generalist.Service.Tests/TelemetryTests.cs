using System.Diagnostics.Metrics;
using System.Globalization;
using System.Text.RegularExpressions;
using Generalist.Service.Api.V1;
using Generalist.Service.Telemetry;
using Grpc.Core;
using Grpc.Health.V1;
using Grpc.Reflection.V1Alpha;
using Microsoft.Extensions.Diagnostics.Metrics.Testing;

namespace Generalist.Service.Tests;

public class TelemetryTests
{
    [Fact]
    public async Task Training_metrics_carry_the_names_values_and_attributes_of_DESIGN()
    {
        await using var svc = await TestService.StartAsync();
        var meters = svc.Service<IMeterFactory>();
        using var loss = new MetricCollector<double>(meters, TelemetryNames.TrainingMeter, TelemetryNames.TrainLoss);
        using var tokens = new MetricCollector<long>(meters, TelemetryNames.TrainingMeter, TelemetryNames.TrainTokens);
        using var duration = new MetricCollector<double>(meters, TelemetryNames.TrainingMeter, TelemetryNames.TrainStepDuration);
        using var grad = new MetricCollector<double>(meters, TelemetryNames.TrainingMeter, TelemetryNames.TrainGradNorm);
        using var lr = new MetricCollector<double>(meters, TelemetryNames.TrainingMeter, TelemetryNames.TrainLearningRate);
        using var mfu = new MetricCollector<double>(meters, TelemetryNames.TrainingMeter, TelemetryNames.TrainMfu);
        using var active = new MetricCollector<long>(meters, TelemetryNames.ServiceMeter, TelemetryNames.RunsActive);
        using var score = new MetricCollector<double>(meters, TelemetryNames.EvaluationMeter, TelemetryNames.EvalScore);

        await svc.Runs().CreateRunAsync(Rpc.Quick("metered", steps: 5));
        await svc.WaitForStateAsync("metered", JobState.Succeeded);

        var cartpole = loss.GetMeasurementSnapshot().Where(m => (string?)m.Tags["task"] == "cartpole").ToList();
        Assert.Equal(Enumerable.Range(1, 5).Select(s => FakeTrainer.LossAt(1, s, 0)), cartpole.Select(m => m.Value));
        Assert.All(loss.GetMeasurementSnapshot(), m => Assert.Equal("metered", m.Tags["run"]));
        Assert.Equal(["all", "cartpole", "text"], loss.GetMeasurementSnapshot().Select(m => (string)m.Tags["task"]!).Distinct().Order());
        Assert.All(loss.GetMeasurementSnapshot(), m => Assert.DoesNotContain("step", m.Tags.Keys));
        Assert.Equal(5L * 8 * FakeTrainer.TokensPerSequence, tokens.GetMeasurementSnapshot().Sum(m => m.Value));
        Assert.Equal(5, duration.GetMeasurementSnapshot().Count);
        Assert.All(duration.GetMeasurementSnapshot(), m => Assert.Equal(0.007, m.Value, 9));
        Assert.Equal("s", duration.Instrument!.Unit);
        Assert.Equal("{token}", tokens.Instrument!.Unit);
        Assert.All(grad.GetMeasurementSnapshot(), m => Assert.Equal(0.5, m.Value));
        Assert.All(lr.GetMeasurementSnapshot(), m => Assert.Equal(1e-3, m.Value));
        Assert.All(mfu.GetMeasurementSnapshot(), m => Assert.Equal(0.01, m.Value));
        Assert.Equal([1L, -1L], active.GetMeasurementSnapshot().Select(m => m.Value));

        await svc.Evaluations().CreateEvaluationAsync(new CreateEvaluationRequest { Run = "metered", Name = "scored", Suite = "control" });
        var deadline = DateTime.UtcNow.AddSeconds(20);
        while (score.GetMeasurementSnapshot().Count == 0 && DateTime.UtcNow < deadline) await Task.Delay(10);
        var s = Assert.Single(score.GetMeasurementSnapshot());
        Assert.Equal(62.5, s.Value);
        Assert.Equal("cartpole", s.Tags["task"]);
        Assert.Equal("control", s.Tags["suite"]);
    }

    [Fact]
    public async Task Metrics_are_scraped_at_slash_metrics_and_health_at_healthz()
    {
        await using var svc = await TestService.StartAsync();
        await svc.Runs().CreateRunAsync(Rpc.Quick("scraped", steps: 3));
        await svc.WaitForStateAsync("scraped", JobState.Succeeded);
        using var http = svc.Server.CreateClient();
        var text = await http.GetStringAsync("/metrics");
        foreach (var name in new[] { "generalist_train_loss", "generalist_train_tokens_total", "generalist_train_step_duration_seconds_bucket",
                     "generalist_train_grad_norm", "generalist_train_learning_rate", "generalist_train_mfu", "generalist_runs_active" })
            Assert.True(text.Contains(name), $"{name} missing from /metrics:\n{text}");
        var line = Regex.Match(text, @"^generalist_train_loss\{[^}]*run=""scraped""[^}]*task=""cartpole""[^}]*\} (\S+)", RegexOptions.Multiline);
        Assert.True(line.Success, text);
        Assert.Equal(FakeTrainer.LossAt(1, 3, 0), double.Parse(line.Groups[1].Value, CultureInfo.InvariantCulture), 9);
        var tokens = Regex.Match(text, @"^generalist_train_tokens_total\{[^}]*run=""scraped""[^}]*\} (\S+)", RegexOptions.Multiline);
        Assert.Equal(3 * 8 * FakeTrainer.TokensPerSequence, double.Parse(tokens.Groups[1].Value, CultureInfo.InvariantCulture));
        Assert.True(text.Contains("dotnet_gc_collections") || text.Contains("process_runtime_dotnet_gc_collections"), "runtime metrics missing:\n" + text);

        var health = await http.GetAsync("/healthz");
        Assert.True(health.IsSuccessStatusCode);
        Assert.Equal("Healthy", await health.Content.ReadAsStringAsync());
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
}
