using System.Globalization;
using TorchSharp;
using static TorchSharp.torch;
using Generalist.RunFormat.Safetensors;

namespace Generalist.RunFormat.Checkpointing;

/// <summary>A checkpoint opened for its model weights: its trainer state and its validated model file.</summary>
public sealed record ModelCheckpoint(string Path, TrainerState State, SafetensorsFile Model);

/// <summary>
/// The one way model weights come out of a checkpoint: the trainer's resume and rollback, a run's
/// <c>init_from</c>, and the evaluator all go through here, so every reader applies the same checks
/// (header, offsets and checksum before anything is allocated; every key present with its shape;
/// no extra keys).
/// </summary>
public static class ModelWeights
{
    /// <summary>
    /// Opens a checkpoint for its weights. <paramref name="path"/> is a checkpoint directory
    /// (step-N, holding trainer_state.json) or a run directory, whose newest valid checkpoint is
    /// taken. Only trainer_state.json and model.safetensors are read and checked (the model file's
    /// checksum against the one the state recorded); the optimizer file is not needed for weights.
    /// Throws FileNotFoundException or InvalidDataException naming the file and the problem.
    /// </summary>
    public static ModelCheckpoint Open(string path)
    {
        var directory = Resolve(path);
        var statePath = System.IO.Path.Combine(directory, CheckpointStore.StateFile);
        var modelPath = System.IO.Path.Combine(directory, CheckpointStore.ModelFile);
        if (!File.Exists(modelPath)) throw new FileNotFoundException($"{directory} is not a complete checkpoint: {CheckpointStore.ModelFile} is missing", modelPath);
        var state = TrainerState.Parse(File.ReadAllText(statePath), statePath);
        var name = System.IO.Path.GetFileName(System.IO.Path.TrimEndingDirectorySeparator(directory));
        if (name.StartsWith("step-", StringComparison.Ordinal)
            && long.TryParse(name.AsSpan(5), NumberStyles.None, CultureInfo.InvariantCulture, out var step) && step != state.Step)
            throw new InvalidDataException($"{statePath}: says step {state.Step} but the directory is step {step}");
        var model = SafetensorsFile.Open(modelPath);
        if (!state.Checksums.TryGetValue(CheckpointStore.ModelFile, out var expected) || expected != model.Metadata[SafetensorsWriter.ChecksumKey])
            throw new InvalidDataException($"{modelPath}: checksum does not match the one recorded in {statePath}");
        return new ModelCheckpoint(directory, state, model);
    }

    /// <summary>A checkpoint directory as given, or the newest valid checkpoint of a run directory.</summary>
    public static string Resolve(string path)
    {
        if (string.IsNullOrWhiteSpace(path)) throw new FileNotFoundException("no checkpoint path given");
        var full = System.IO.Path.GetFullPath(path);
        if (!Directory.Exists(full)) throw new FileNotFoundException($"checkpoint not found: {full} is not a directory", full);
        if (File.Exists(System.IO.Path.Combine(full, CheckpointStore.StateFile))) return full;
        var runCheckpoints = System.IO.Path.Combine(full, "checkpoints");
        var store = new CheckpointStore(new CheckpointOptions(Directory.Exists(runCheckpoints) ? runCheckpoints : full, int.MaxValue));
        var rejected = new List<string>();
        return store.NewestValid(rejected: rejected)?.Info.Path
            ?? throw new FileNotFoundException(
                $"{full} is neither a checkpoint (no {CheckpointStore.StateFile}) nor a run directory with a valid checkpoint" +
                (rejected.Count > 0 ? ": " + string.Join("; ", rejected) : ""), full);
    }

    /// <summary>
    /// Copies the file's tensors into <paramref name="model"/>'s parameters and buffers (strict, as
    /// PyTorch's load_state_dict(strict=True)): every key of the model must be in the file with the
    /// same shape, and the file must hold no key the model lacks. Nothing is copied unless every key
    /// matches, so a refused load leaves the model as it was. <paramref name="modelDescription"/>
    /// names the model in errors (e.g. "preset 'tiny'").
    /// </summary>
    public static void Load(nn.Module model, SafetensorsFile file, string modelDescription)
    {
        var targets = model.state_dict();
        var entries = file.Entries.ToDictionary(e => e.Name, StringComparer.Ordinal);
        var problems = new List<string>();
        foreach (var (name, target) in targets.OrderBy(kv => kv.Key, StringComparer.Ordinal))
        {
            if (!entries.TryGetValue(name, out var entry))
                problems.Add($"tensor '{name}' that the model ({modelDescription}) needs is missing");
            else if (!entry.Shape.SequenceEqual(target.shape))
                problems.Add($"tensor '{name}' has shape [{string.Join(", ", entry.Shape)}] but the model ({modelDescription}) expects [{string.Join(", ", target.shape)}]");
        }
        foreach (var name in entries.Keys.Where(k => !targets.ContainsKey(k)).Order(StringComparer.Ordinal))
            problems.Add($"tensor '{name}' is not part of the model ({modelDescription})");
        if (problems.Count > 0)
            throw new InvalidDataException($"{file.Path}: {problems[0]}" +
                (problems.Count > 1 ? $" (and {problems.Count - 1} more mismatched tensors; was it trained with another model shape?)" : ""));
        using var scope = NewDisposeScope();
        using var _ = no_grad();
        foreach (var (name, target) in targets)
        {
            var saved = file.ReadTensor(name);
            target.copy_(saved);
        }
    }
}
