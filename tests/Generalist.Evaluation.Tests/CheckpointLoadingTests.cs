using Generalist.Model;
using TorchSharp;
using static TorchSharp.torch;
using Generalist.RunFormat;
using Generalist.RunFormat.Checkpointing;

namespace Generalist.Evaluation.Tests;

/// <summary>The evaluator reads checkpoints through the trainer's loader (ModelWeights), with its checks.</summary>
public class CheckpointLoadingTests
{
    private static string Save(string root, string preset, GeneralistModel model)
    {
        var store = new CheckpointStore(new CheckpointOptions(Path.Combine(root, "checkpoints"), 3));
        var state = new TrainerState { Step = 7, OptimizerSteps = 7, DataCursor = System.Text.Json.JsonDocument.Parse("{}").RootElement.Clone(), Config = new RunConfig { Name = "saved", Preset = preset } };
        return store.Save(state, model.state_dict().Select(kv => (kv.Key, kv.Value)).ToList(), []);
    }

    private static Dictionary<string, float[]> Weights(GeneralistModel model) =>
        model.state_dict().ToDictionary(kv => kv.Key, kv => kv.Value.data<float>().ToArray());

    [Fact]
    public void A_trainer_checkpoint_loads_with_every_weight_equal_and_a_run_directory_resolves_to_its_newest_checkpoint()
    {
        var dir = Directory.CreateTempSubdirectory("ckpt-load").FullName;
        try
        {
            using var model = new GeneralistModel(ModelPresets.Get("ladder-0"), seed: 3);
            var checkpoint = Save(dir, "ladder-0", model);
            using (var loaded = CheckpointLoading.Load(checkpoint, CPU))
            {
                Assert.Equal("saved", loaded.Config.Name);
                var expected = Weights(model);
                var actual = Weights(loaded.Model);
                foreach (var (name, values) in expected) Assert.Equal(values, actual[name]);
            }
            using var fromRun = CheckpointLoading.Load(dir, CPU);
            Assert.Equal(checkpoint, fromRun.Path);
        }
        finally
        {
            Directory.Delete(dir, true);
        }
    }

    [Fact]
    public void A_checkpoint_whose_weights_do_not_fit_its_preset_is_refused_naming_the_tensor()
    {
        var dir = Directory.CreateTempSubdirectory("ckpt-load").FullName;
        try
        {
            using var model = new GeneralistModel(ModelPresets.Get("ladder-0"), seed: 3);
            var checkpoint = Save(dir, "ladder-1", model);
            var e = Assert.Throws<InvalidDataException>(() => CheckpointLoading.Load(checkpoint, CPU));
            Assert.StartsWith("checkpoint: ", e.Message);
            Assert.Matches("tensor '[^']+' (has shape|that the model) .*preset 'ladder-1'", e.Message);
        }
        finally
        {
            Directory.Delete(dir, true);
        }
    }

    [Fact]
    public void A_corrupted_model_file_is_refused_before_loading()
    {
        var dir = Directory.CreateTempSubdirectory("ckpt-load").FullName;
        try
        {
            using var model = new GeneralistModel(ModelPresets.Get("ladder-0"), seed: 3);
            var checkpoint = Save(dir, "ladder-0", model);
            var file = Path.Combine(checkpoint, CheckpointStore.ModelFile);
            var bytes = File.ReadAllBytes(file);
            bytes[^5] ^= 0xFF;
            File.WriteAllBytes(file, bytes);
            var e = Assert.Throws<InvalidDataException>(() => CheckpointLoading.Load(checkpoint, CPU));
            Assert.Contains("checksum mismatch", e.Message);
        }
        finally
        {
            Directory.Delete(dir, true);
        }
    }
}
