using Generalist.Model;
using TorchSharp;
using static TorchSharp.torch;
using Generalist.RunFormat;
using Generalist.RunFormat.Checkpointing;

namespace Generalist.Evaluation;

/// <summary>
/// Loads a checkpoint for evaluation through the trainer's own loader (<see cref="ModelWeights"/>):
/// trainer_state.json gives the run config, the model shape follows from its preset and context
/// length (as the trainer resolves them), and model.safetensors is validated (header, offsets,
/// checksum against the trainer state) before any tensor is allocated, then loaded strictly
/// (every key with its shape, no extra keys). A run directory is accepted too (its newest valid
/// checkpoint).
/// </summary>
public static class CheckpointLoading
{
    public static LoadedCheckpoint Load(string directory, Device device)
    {
        ModelCheckpoint checkpoint;
        try
        {
            checkpoint = ModelWeights.Open(directory);
        }
        catch (Exception e) when (e is IOException or InvalidDataException)
        {
            throw new InvalidDataException($"checkpoint: {e.Message}", e);
        }
        var config = checkpoint.State.Config;
        ModelConfig shape;
        try
        {
            shape = config.ResolveModel();
        }
        catch (Generalist.RunFormat.ConfigException e)
        {
            throw new InvalidDataException($"checkpoint: {checkpoint.Path}: its run config does not describe a model: {e.Message}");
        }
        var model = new GeneralistModel(shape, config.Seed);
        try
        {
            try
            {
                ModelWeights.Load(model, checkpoint.Model, $"preset '{config.Preset}'");
            }
            catch (InvalidDataException e)
            {
                throw new InvalidDataException($"checkpoint: {e.Message}", e);
            }
            model.to(device);
            model.eval();
            return new LoadedCheckpoint(model, config, checkpoint.Path);
        }
        catch
        {
            model.Dispose();
            throw;
        }
    }
}
