using System.Globalization;
using static TorchSharp.torch;
using Generalist.RunFormat.Safetensors;

namespace Generalist.RunFormat.Checkpointing;

/// <summary>Where checkpoints go and how many are kept.</summary>
public sealed record CheckpointOptions(string Directory, int KeepLast);

/// <summary>A complete checkpoint directory on disk.</summary>
public sealed record CheckpointInfo(long Step, string Path);

/// <summary>A checkpoint whose files all validated (header, offsets, checksums, state); tensors not yet read.</summary>
public sealed record ValidatedCheckpoint(CheckpointInfo Info, SafetensorsFile Model, SafetensorsFile Optimizer, TrainerState State);

/// <summary>
/// checkpoints/step-N/{model.safetensors, optimizer.safetensors, trainer_state.json}. A checkpoint
/// is written into a `.tmp-step-N-PID` directory and renamed to `step-N` only when every file is
/// complete, so a crash at any point leaves either the old set of checkpoints or the old set plus
/// the new one; listing ignores anything not named step-N. Old ones beyond KeepLast are deleted
/// after the new one is in place.
/// </summary>
public sealed class CheckpointStore(CheckpointOptions options, Action<string>? log = null)
{
    public const string ModelFile = "model.safetensors";
    public const string OptimizerFile = "optimizer.safetensors";
    public const string StateFile = "trainer_state.json";
    private const string Prefix = "step-";
    private const string TempPrefix = ".tmp-";

    public string Directory => options.Directory;

    /// <summary>
    /// Hook called at each phase of a write (fault-injection tests throw or stop the process here):
    /// "model-data-written" (model bytes in its temporary file, not yet flushed), "model-written",
    /// "optimizer-written", "state-written" (every file complete, directory not yet renamed) and
    /// "renamed" (the new checkpoint is in place, old ones not yet pruned).
    /// </summary>
    public Action<string>? PhaseHook { get; init; }

    /// <summary>Deletes temporary directories left by an interrupted write. Returns how many.</summary>
    public int CleanTemporaries()
    {
        if (!System.IO.Directory.Exists(options.Directory)) return 0;
        var n = 0;
        foreach (var dir in System.IO.Directory.GetDirectories(options.Directory, TempPrefix + "*"))
        {
            System.IO.Directory.Delete(dir, recursive: true);
            log?.Invoke($"removed incomplete checkpoint {dir}");
            n++;
        }
        return n;
    }

    /// <summary>Complete checkpoints, oldest first.</summary>
    public IReadOnlyList<CheckpointInfo> List()
    {
        if (!System.IO.Directory.Exists(options.Directory)) return [];
        var result = new List<CheckpointInfo>();
        foreach (var dir in System.IO.Directory.GetDirectories(options.Directory, Prefix + "*"))
        {
            var name = System.IO.Path.GetFileName(dir);
            if (long.TryParse(name.AsSpan(Prefix.Length), NumberStyles.None, CultureInfo.InvariantCulture, out var step)
                && name == Prefix + step.ToString(CultureInfo.InvariantCulture))
                result.Add(new CheckpointInfo(step, dir));
        }
        return result.OrderBy(c => c.Step).ToList();
    }

    /// <summary>Writes a checkpoint for <paramref name="state"/>.Step atomically; returns its directory.</summary>
    public string Save(TrainerState state, IReadOnlyList<(string Name, Tensor Tensor)> model,
        IReadOnlyList<(string Name, Tensor Tensor)> optimizer, string modelMetadataFormat = "pt")
    {
        System.IO.Directory.CreateDirectory(options.Directory);
        var stepName = Prefix + state.Step.ToString(CultureInfo.InvariantCulture);
        var final = System.IO.Path.Combine(options.Directory, stepName);
        var temp = System.IO.Path.Combine(options.Directory, $"{TempPrefix}{stepName}-{Environment.ProcessId}");
        if (System.IO.Directory.Exists(temp)) System.IO.Directory.Delete(temp, true);
        try
        {
            return SaveInto(temp, final, stepName, state, model, optimizer, modelMetadataFormat);
        }
        catch (IOException e)
        {
            // A failed write (a full or read-only disk) leaves nothing behind: the partial
            // directory would only take space the next attempt needs. A crash cannot clean up;
            // the next start does (CleanTemporaries).
            TryDelete(temp);
            throw new IOException($"checkpoint of step {state.Step} could not be written to {options.Directory}: {StorageErrors.Describe(e)}", e);
        }
    }

    private static void TryDelete(string directory)
    {
        try
        {
            if (System.IO.Directory.Exists(directory)) System.IO.Directory.Delete(directory, true);
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException)
        {
            // Removed at the next start.
        }
    }

    private string SaveInto(string temp, string final, string stepName, TrainerState state, IReadOnlyList<(string Name, Tensor Tensor)> model,
        IReadOnlyList<(string Name, Tensor Tensor)> optimizer, string modelMetadataFormat)
    {
        System.IO.Directory.CreateDirectory(temp);

        var meta = new Dictionary<string, string> { ["format"] = modelMetadataFormat, ["step"] = state.Step.ToString(CultureInfo.InvariantCulture) };
        var modelSum = SafetensorsWriter.Write(System.IO.Path.Combine(temp, ModelFile), model, meta,
            PhaseHook is { } hook ? () => hook("model-data-written") : null);
        PhaseHook?.Invoke("model-written");
        var optimizerSum = SafetensorsWriter.Write(System.IO.Path.Combine(temp, OptimizerFile), optimizer,
            new Dictionary<string, string> { ["optimizer_steps"] = state.OptimizerSteps.ToString(CultureInfo.InvariantCulture) });
        PhaseHook?.Invoke("optimizer-written");
        var full = state with { Checksums = new() { [ModelFile] = modelSum, [OptimizerFile] = optimizerSum }, SavedUtc = DateTime.UtcNow };
        var statePath = System.IO.Path.Combine(temp, StateFile);
        using (var f = new FileStream(statePath, FileMode.CreateNew, FileAccess.Write))
        using (var w = new StreamWriter(f))
        {
            w.Write(full.ToJson());
            w.Flush();
            f.Flush(flushToDisk: true);
        }
        DirectorySync.Flush(temp); // the three files' entries are durable before the directory is published
        PhaseHook?.Invoke("state-written");

        // A checkpoint of the same step (after a rollback re-reaches it) is replaced as a whole.
        if (System.IO.Directory.Exists(final))
        {
            var old = System.IO.Path.Combine(options.Directory, $"{TempPrefix}old-{stepName}-{Environment.ProcessId}");
            System.IO.Directory.Move(final, old);
            System.IO.Directory.Move(temp, final);
            System.IO.Directory.Delete(old, true);
        }
        else
        {
            System.IO.Directory.Move(temp, final);
        }
        DirectorySync.Flush(options.Directory); // the rename itself survives a power cut
        PhaseHook?.Invoke("renamed");
        Prune();
        return final;
    }

    private void Prune()
    {
        var all = List();
        foreach (var c in all.Take(Math.Max(0, all.Count - options.KeepLast)))
        {
            // Another run trained into this step directory (from before it was refused): its data is not ours to delete.
            if (RunDirectory.IsRunDirectory(c.Path))
            {
                log?.Invoke($"kept {c.Path} past checkpoint.keep_last: another run's directory is inside it");
                continue;
            }
            // Rename first so a crash mid-delete never leaves a half-deleted step-N that lists.
            var doomed = System.IO.Path.Combine(options.Directory, $"{TempPrefix}delete-{System.IO.Path.GetFileName(c.Path)}-{Environment.ProcessId}");
            System.IO.Directory.Move(c.Path, doomed);
            System.IO.Directory.Delete(doomed, true);
        }
    }

    /// <summary>Validates one checkpoint; throws InvalidDataException naming the bad file and the problem.</summary>
    public static ValidatedCheckpoint Validate(CheckpointInfo info)
    {
        var statePath = System.IO.Path.Combine(info.Path, StateFile);
        if (!File.Exists(statePath)) throw new InvalidDataException($"{statePath}: missing");
        var state = TrainerState.Parse(File.ReadAllText(statePath), statePath);
        if (state.Step != info.Step) throw new InvalidDataException($"{statePath}: says step {state.Step} but the directory is step {info.Step}");
        var model = SafetensorsFile.Open(System.IO.Path.Combine(info.Path, ModelFile));
        var optimizer = SafetensorsFile.Open(System.IO.Path.Combine(info.Path, OptimizerFile));
        foreach (var file in new[] { model, optimizer })
        {
            var name = System.IO.Path.GetFileName(file.Path);
            if (!state.Checksums.TryGetValue(name, out var expected) || expected != file.Metadata[SafetensorsWriter.ChecksumKey])
                throw new InvalidDataException($"{file.Path}: checksum does not match the one recorded in {statePath}");
        }
        return new ValidatedCheckpoint(info, model, optimizer, state);
    }

    /// <summary>
    /// The newest checkpoint (with step at most <paramref name="maxStep"/>) that validates. Invalid
    /// newer ones are skipped and reported through <paramref name="rejected"/> with the reason.
    /// </summary>
    public ValidatedCheckpoint? NewestValid(long maxStep = long.MaxValue, List<string>? rejected = null)
    {
        foreach (var info in List().Where(c => c.Step <= maxStep).Reverse())
        {
            try
            {
                return Validate(info);
            }
            catch (InvalidDataException e)
            {
                rejected?.Add(e.Message);
                log?.Invoke($"checkpoint {info.Path} rejected: {e.Message}");
            }
        }
        return null;
    }
}
