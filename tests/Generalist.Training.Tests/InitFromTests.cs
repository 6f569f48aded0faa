using Generalist.Model;
using Generalist.Training.Loop;
using TorchSharp;
using static TorchSharp.torch;
using Generalist.RunFormat;
using Generalist.RunFormat.Checkpointing;
using Generalist.RunFormat.Safetensors;
using Generalist.TestSupport;

namespace Generalist.Training.Tests;

/// <summary>init_from (fine-tuning from another run's weights) and the one model-weight loader behind it.</summary>
public class InitFromTests
{
    private static Dictionary<string, float[]> Weights(GeneralistModel model) =>
        model.state_dict().ToDictionary(kv => kv.Key, kv => kv.Value.to_type(ScalarType.Float32).data<float>().ToArray());

    private static Dictionary<string, float[]> Weights(SafetensorsFile file) =>
        file.Entries.ToDictionary(e => e.Name, e =>
        {
            using var t = file.ReadTensor(e.Name);
            return t.to_type(ScalarType.Float32).data<float>().ToArray();
        });

    [Fact]
    public void Load_copies_every_parameter_exactly()
    {
        using var dir = new TempDir();
        using var source = new GeneralistModel(SyntheticData.MicroModel, seed: 1);
        using var target = new GeneralistModel(SyntheticData.MicroModel, seed: 2);
        var path = dir.File("model.safetensors");
        SafetensorsWriter.Write(path, source.state_dict().Select(kv => (kv.Key, kv.Value)).ToList());
        Assert.NotEqual(Weights(source)["token_embedding.weight"], Weights(target)["token_embedding.weight"]);

        ModelWeights.Load(target, SafetensorsFile.Open(path), "micro");

        var expected = Weights(source);
        var actual = Weights(target);
        Assert.Equal(expected.Keys.Order(), actual.Keys.Order());
        foreach (var (name, values) in expected) Assert.Equal(values, actual[name]);
    }

    [Fact]
    public void A_model_of_another_shape_is_refused_naming_the_tensor_and_left_unchanged()
    {
        using var dir = new TempDir();
        using var source = new GeneralistModel(SyntheticData.MicroModel, seed: 1);
        using var wider = new GeneralistModel(SyntheticData.MicroModel with { ModelDim = 48 }, seed: 2);
        var path = dir.File("model.safetensors");
        SafetensorsWriter.Write(path, source.state_dict().Select(kv => (kv.Key, kv.Value)).ToList());
        var before = Weights(wider);

        var e = Assert.Throws<InvalidDataException>(() => ModelWeights.Load(wider, SafetensorsFile.Open(path), "preset 'wide'"));

        Assert.Matches(@"tensor '[^']+' has shape \[\d+(, \d+)*\] but the model \(preset 'wide'\) expects \[\d+(, \d+)*\]", e.Message);
        Assert.Contains("more mismatched tensors", e.Message);
        var after = Weights(wider);
        foreach (var (name, values) in before) Assert.Equal(values, after[name]);
    }

    [Fact]
    public void A_missing_or_extra_key_is_named()
    {
        using var dir = new TempDir();
        using var model = new GeneralistModel(SyntheticData.MicroModel, seed: 1);
        var all = model.state_dict().Select(kv => (kv.Key, kv.Value)).OrderBy(t => t.Key, StringComparer.Ordinal).ToList();
        var missing = dir.File("missing.safetensors");
        SafetensorsWriter.Write(missing, all.Skip(1).ToList());
        var e = Assert.Throws<InvalidDataException>(() => ModelWeights.Load(model, SafetensorsFile.Open(missing), "micro"));
        Assert.Contains($"tensor '{all[0].Key}' that the model (micro) needs is missing", e.Message);

        using var extraTensor = zeros(3);
        var extra = dir.File("extra.safetensors");
        SafetensorsWriter.Write(extra, all.Append(("unexpected.weight", extraTensor)).ToList());
        e = Assert.Throws<InvalidDataException>(() => ModelWeights.Load(model, SafetensorsFile.Open(extra), "micro"));
        Assert.Contains("tensor 'unexpected.weight' is not part of the model (micro)", e.Message);
    }

    [Fact]
    public void A_run_with_init_from_starts_at_step_0_from_the_source_weights_with_a_fresh_optimizer()
    {
        using var sourceDir = new TempDir();
        using var fineDir = new TempDir();
        using var freshDir = new TempDir();
        var (sourceResult, sourceEvents, _) = TrainerHarness.Run(TrainerHarness.Config(10), sourceDir.Path);
        Assert.Equal(TrainingOutcome.Completed, sourceResult.Outcome);
        var sourceCheckpoint = sourceResult.LastCheckpoint!;

        // Different tasks and seed: only the weights come from the source.
        var fine = TrainerHarness.Config(4, c => c with { InitFrom = sourceCheckpoint, Tasks = [new("count")], Seed = 7, HeldOut = new() { Every = 2, Batches = 1 } });
        var (result, events, log) = TrainerHarness.Run(fine, fineDir.Path);
        Assert.Equal(TrainingOutcome.Completed, result.Outcome);
        Assert.Equal(4, result.FinalStep);
        Assert.Contains(log, l => l.Contains("initialized the model from") && l.Contains("step 10"));

        // The step-0 checkpoint (written right after the load) holds exactly the source weights and no optimizer moments.
        var store = new CheckpointStore(new CheckpointOptions(Path.Combine(fineDir.Path, "checkpoints"), 10));
        var start = CheckpointStore.Validate(store.List().First(c => c.Step == 0));
        var expected = Weights(SafetensorsFile.Open(Path.Combine(sourceCheckpoint, CheckpointStore.ModelFile)));
        var actual = Weights(start.Model);
        Assert.Equal(expected.Keys.Order(), actual.Keys.Order());
        foreach (var (name, values) in expected) Assert.Equal(values, actual[name]);
        Assert.Equal(0, start.State.OptimizerSteps);
        Assert.Equal(0, start.State.TokensSeen);
        Assert.Equal(sourceCheckpoint, start.State.Config.InitFrom);

        // Its held-out loss at step 0 is the source's trained loss, far below an untrained model's.
        var (_, freshEvents, _) = TrainerHarness.Run(fine with { InitFrom = null }, freshDir.Path);
        var initial = events.All.OfType<HeldOutEvaluated>().First(h => h.Step == 0).TaskLoss["count"];
        var untrained = freshEvents.All.OfType<HeldOutEvaluated>().First(h => h.Step == 0).TaskLoss["count"];
        var sourceTrained = sourceEvents.All.OfType<HeldOutEvaluated>().Last().TaskLoss["count"];
        Assert.True(initial < untrained - 0.1, $"init_from step-0 loss {initial} vs untrained {untrained}");
        Assert.True(Math.Abs(initial - sourceTrained) < 0.05 * sourceTrained, $"init_from step-0 loss {initial} vs the source's final {sourceTrained}");
    }

    [Fact]
    public void Init_from_a_checkpoint_of_another_shape_fails_with_a_config_error_naming_init_from_and_the_tensor()
    {
        using var sourceDir = new TempDir();
        using var fineDir = new TempDir();
        var (sourceResult, _, _) = TrainerHarness.Run(TrainerHarness.Config(5), sourceDir.Path);
        var config = TrainerHarness.Config(3, c => c with { InitFrom = sourceResult.LastCheckpoint });
        var trainer = new Trainer(new TrainerOptions { Data = new SyntheticData(), Model = SyntheticData.MicroModel with { Layers = 3 } });

        var e = Assert.Throws<ConfigException>(() => trainer.RunAsync(config, fineDir.Path, false, null, CancellationToken.None).GetAwaiter().GetResult());

        Assert.Equal("init_from", e.Field);
        Assert.Contains("init_from: ", e.Message);
        Assert.Matches("tensor 'blocks\\.2\\.[^']+' that the model \\(preset '[^']+'\\) needs is missing", e.Message);
    }

    [Fact]
    public void Init_from_a_run_directory_takes_its_newest_checkpoint_and_a_path_without_one_is_refused()
    {
        using var sourceDir = new TempDir();
        using var empty = new TempDir();
        var (sourceResult, _, _) = TrainerHarness.Run(TrainerHarness.Config(5), sourceDir.Path);
        Assert.Equal(Path.GetFullPath(sourceResult.LastCheckpoint!), ModelWeights.Resolve(sourceDir.Path));
        Assert.Equal(5, ModelWeights.Open(sourceDir.Path).State.Step);

        using var fineDir = new TempDir();
        var config = TrainerHarness.Config(3, c => c with { InitFrom = empty.Path });
        var e = Assert.Throws<ConfigException>(() => TrainerHarness.Run(config, fineDir.Path));
        Assert.Equal("init_from", e.Field);
        Assert.Contains("neither a checkpoint", e.Message);
    }

    [Theory]
    [InlineData("")]
    [InlineData("   ")]
    [InlineData("a\u0000b")]
    public void An_init_from_that_cannot_be_a_path_is_a_validation_error(string path)
    {
        var errors = (new RunConfig() with { InitFrom = path }).Validate();
        Assert.Contains(errors, e => e.Field == "init_from");
    }

    [Fact]
    public void Init_from_round_trips_through_json_and_is_omitted_when_null()
    {
        var parsed = RunConfig.Parse("""{ "init_from": "runs/a/checkpoints/step-10" }""");
        Assert.Equal("runs/a/checkpoints/step-10", parsed.InitFrom);
        Assert.Contains("\"init_from\"", parsed.ToJson());
        Assert.DoesNotContain("init_from", new RunConfig().ToJson());
    }
}
