using Generalist.Service.Api.V1;
using Generalist.Studies;
using Google.Rpc;
using Grpc.Core;
using Microsoft.Extensions.DependencyInjection;

namespace Generalist.Service.Tests;

/// <summary>Studies through the service with the real study runner over the service's trainer and evaluator doubles.</summary>
public class StudiesApiTests
{
    private const string AblationConfig = """
        {
          "name": "abl",
          "base": { "preset": "tiny", "steps": 4, "tasks": [ { "name": "cartpole" }, { "name": "text" } ], "checkpoint": { "every": 0 } },
          "evaluation": { "episodes": 2 },
          "ablation": {
            "variants": [
              { "name": "gato-exact", "overrides": { "model": { "value_embedding": "none", "attention_positions": "none" } } },
              { "name": "default" }
            ],
            "seeds": [1, 2]
          },
          "bootstrap": { "samples": 50 }
        }
        """;

    private static async Task<(TestService Service, FakeTrainer Trainer)> StartWithRealRunnerAsync()
    {
        var trainer = new FakeTrainer();
        var evaluator = new FakeEvaluator();
        var runner = new StudyRunner(new StudyBackend(trainer, evaluator, _ => 1_000_000, null));
        var svc = await TestService.StartAsync(trainer: trainer, configure: s => s.AddSingleton<IStudyRunner>(runner));
        Directory.CreateDirectory(Path.Combine(svc.DataRoot, "configs"));
        return (svc, trainer);
    }

    [Fact]
    public async Task An_ablation_study_trains_every_variant_and_seed_and_reports_through_the_API()
    {
        var (svc, trainer) = await StartWithRealRunnerAsync();
        await using var _ = svc;
        await File.WriteAllTextAsync(Path.Combine(svc.DataRoot, "configs/ablation.json"), AblationConfig);
        var client = svc.Studies();
        var created = await client.CreateStudyAsync(new CreateStudyRequest { Kind = "ablation", ConfigPath = "configs/ablation.json", Name = "a1" });
        Assert.Equal("ablation", created.Kind);
        Assert.Equal("studies/a1", created.OutputDirectory);
        using var watch = client.WatchStudy(new WatchStudyRequest { Name = "a1" });
        var events = new List<StudyEvent>();
        while (await watch.ResponseStream.MoveNext()) events.Add(watch.ResponseStream.Current);
        var done = await client.GetStudyAsync(new GetStudyRequest { Name = "a1" });
        Assert.True(done.State == JobState.Succeeded, done.FailureReason);
        Assert.Equal("studies/a1/report.md", done.ReportPath);
        Assert.Contains("studies/a1/ablation.csv", done.Artifacts);
        Assert.Contains("studies/a1/plots/ablation_scores.png", done.Artifacts);
        Assert.Equal(["default-seed1", "default-seed2", "gato-exact-seed1", "gato-exact-seed2"], trainer.Calls.Select(c => c.Run).Order(StringComparer.Ordinal));
        var report = await File.ReadAllTextAsync(Path.Combine(svc.DataRoot, "studies/a1/report.md"));
        Assert.Contains("# Ablation study: abl", report);
        Assert.Contains("| gato-exact | 2 | 1 | 62.5", report);
        Assert.True(File.Exists(Path.Combine(svc.DataRoot, "studies/a1/runs/gato-exact-seed2/result.json")));
    }

    [Fact]
    public async Task Study_kinds_and_configs_are_validated_when_the_study_is_created()
    {
        var (svc, trainer) = await StartWithRealRunnerAsync();
        await using var _ = svc;
        var client = svc.Studies();
        await File.WriteAllTextAsync(Path.Combine(svc.DataRoot, "configs/ablation.json"), AblationConfig);
        var kind = await Rpc.FailsWith(StatusCode.InvalidArgument, () => client.CreateStudyAsync(new CreateStudyRequest { Kind = "ablations", ConfigPath = "configs/ablation.json" }).ResponseAsync);
        Assert.Equal("kind", kind.Detail<BadRequest>()!.FieldViolations.Single().Field);
        Assert.Contains("must be one of transfer, scaling, ablation, icl (got 'ablations')", kind.Detail<BadRequest>()!.FieldViolations.Single().Description);

        await File.WriteAllTextAsync(Path.Combine(svc.DataRoot, "configs/duplicate.json"), AblationConfig.Replace("\"name\": \"default\"", "\"name\": \"Gato-Exact\""));
        var duplicate = await Rpc.FailsWith(StatusCode.InvalidArgument, () => client.CreateStudyAsync(new CreateStudyRequest { Kind = "ablation", ConfigPath = "configs/duplicate.json" }).ResponseAsync);
        var violation = duplicate.Detail<BadRequest>()!.FieldViolations.Single();
        Assert.Equal("ablation.variants[1].name", violation.Field);
        Assert.StartsWith("'Gato-Exact' is already the name of ablation.variants[0]", violation.Description);

        await File.WriteAllTextAsync(Path.Combine(svc.DataRoot, "configs/bad-override.json"), AblationConfig.Replace("\"attention_positions\": \"none\"", "\"attention_positions\": \"alibi\""));
        var bad = await Rpc.FailsWith(StatusCode.InvalidArgument, () => client.CreateStudyAsync(new CreateStudyRequest { Kind = "ablation", ConfigPath = "configs/bad-override.json" }).ResponseAsync);
        Assert.Equal("ablation.variants[0].overrides.model.attention_positions", bad.Detail<BadRequest>()!.FieldViolations.Single().Field);

        await File.WriteAllTextAsync(Path.Combine(svc.DataRoot, "configs/transfer.json"), """{"base":{"tasks":[{"name":"cartpole"},{"name":"text"}]}}""");
        var transfer = await Rpc.FailsWith(StatusCode.InvalidArgument, () => client.CreateStudyAsync(new CreateStudyRequest { Kind = "transfer", ConfigPath = "configs/transfer.json" }).ResponseAsync);
        Assert.Equal("transfer.families", transfer.Detail<BadRequest>()!.FieldViolations.Single().Field);

        // Nothing was queued or trained.
        Assert.Empty(trainer.Calls);
        Assert.False(Directory.Exists(Path.Combine(svc.DataRoot, "studies")) && Directory.EnumerateFileSystemEntries(Path.Combine(svc.DataRoot, "studies")).Any());
    }
}
