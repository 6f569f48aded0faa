using TorchSharp;
using static TorchSharp.torch;
using Generalist.RunFormat;
using Generalist.RunFormat.Checkpointing;

namespace Generalist.Training.Loop;

/// <summary>Saving, resuming and rolling back: the parts of a run that touch checkpoints.</summary>
internal sealed partial class RunSession
{
    private void Start(bool resume)
    {
        var existing = _store.List();
        // Every rank has looked at the directory before rank 0 writes anything into it.
        _parallel?.Barrier();
        if (!resume)
        {
            if (existing.Count > 0)
                throw new ConfigException("resume", $"{_store.Directory} already holds checkpoints (newest step {existing[^1].Step}); resume the run or choose another output directory");
            _metrics?.RewindTo(0);
            InitializeFrom(_config.InitFrom);
            // A step-0 checkpoint gives the spike detector something to roll back to early on.
            if (_config.Spike.Enabled) SaveCheckpoint();
            return;
        }
        var rejected = new List<string>();
        var checkpoint = _store.NewestValid(rejected: rejected);
        foreach (var r in rejected) Log($"skipped a corrupt checkpoint: {r}");
        if (checkpoint is null)
        {
            if (existing.Count > 0)
                throw new InvalidDataException($"no valid checkpoint to resume from in {_store.Directory}: {string.Join("; ", rejected)}");
            Log($"nothing to resume in {_store.Directory}; starting from step 0");
            _metrics?.RewindTo(0);
            InitializeFrom(_config.InitFrom);
            if (_config.Spike.Enabled) SaveCheckpoint();
            return;
        }
        CheckCompatible(checkpoint.State.Config, checkpoint.Info.Path);
        Restore(checkpoint);
        _metrics?.RewindTo(_step);
        Log($"resumed from {checkpoint.Info.Path} at step {_step}");
    }

    /// <summary>
    /// init_from: a new run takes another checkpoint's model weights (nothing else: the optimizer
    /// moments, step, data cursor and RNG stay those of a fresh run, as fine-tuning wants). Any
    /// problem with the path or a tensor is a config error naming init_from.
    /// </summary>
    private void InitializeFrom(string? path)
    {
        if (path is null) return;
        try
        {
            var source = ModelWeights.Open(path);
            ModelWeights.Load(_model, source.Model, $"preset '{_config.Preset}'" + (_config.ContextLength > 0 ? $", context_length {_config.ContextLength}" : ""));
            Log($"initialized the model from {source.Path} (step {source.State.Step} of run '{source.State.Config.Name}'); optimizer and step start fresh");
        }
        catch (Exception e) when (e is IOException or InvalidDataException or UnauthorizedAccessException)
        {
            throw new ConfigException("init_from", $"init_from: {e.Message}");
        }
    }

    /// <summary>A resumed run must see the same model and data stream; only lengths and cadences may change.</summary>
    private void CheckCompatible(RunConfig saved, string path)
    {
        void Same<T>(string field, T a, T b)
        {
            if (!EqualityComparer<T>.Default.Equals(a, b))
                throw new ConfigException(field, $"{field}: the checkpoint in {path} was trained with {b}, this config says {a}; resume with the same value or start a new run");
        }
        Same("preset", _config.Preset, saved.Preset);
        Same("context_length", _config.ContextLength, saved.ContextLength);
        Same("batch_size", _config.BatchSize, saved.BatchSize);
        Same("grad_accum", _config.GradAccum, saved.GradAccum);
        Same("seed", _config.Seed, saved.Seed);
        Same("tasks", string.Join(",", _config.Tasks.Select(t => $"{t.Name}:{t.Weight}")), string.Join(",", saved.Tasks.Select(t => $"{t.Name}:{t.Weight}")));
    }

    /// <summary>
    /// Rank 0 writes the checkpoint; every rank then waits for it to be complete, so a later
    /// rollback or resume on any rank sees the same newest checkpoint.
    /// </summary>
    private string SaveCheckpoint()
    {
        var path = _distributed.IsRoot ? WriteCheckpoint() : null;
        _lastCheckpointStep = _step;
        _parallel?.Barrier();
        return path ?? LastCheckpointPath() ?? "";
    }

    private string WriteCheckpoint()
    {
        if (_lastCheckpointStep == _step && _store.List().LastOrDefault() is { } last && last.Step == _step) return last.Path;
        var state = new TrainerState
        {
            Step = _step,
            OptimizerSteps = _optimizerSteps,
            TokensSeen = _tokensSeen,
            DataCursor = _data.Train.Cursor,
            Rng = new RngState { TorchCpu = RngBase64() },
            Config = _config,
            CodeVersion = Trainer.CodeVersion,
            NonFiniteSteps = _nonFiniteSteps,
            Rollbacks = _rollbacks,
        };
        var modelTensors = _model.state_dict().OrderBy(kv => kv.Key, StringComparer.Ordinal).Select(kv => (kv.Key, kv.Value)).ToList();
        var optimizerTensors = _optimizer.StateTensors();
        // A robust rule's history (centered clipping's center) travels with the optimizer state:
        // without it a resumed run would clip around another center and drift from the original.
        if (_parallel?.AggregatorState is { } aggregator) optimizerTensors.Add(aggregator);
        var started = System.Diagnostics.Stopwatch.GetTimestamp();
        var path = _store.Save(state, modelTensors, optimizerTensors);
        var seconds = System.Diagnostics.Stopwatch.GetElapsedTime(started).TotalSeconds;
        _lastCheckpointStep = _step;
        _progress?.Report(new CheckpointWritten(_step, path, seconds));
        return path;
    }

    private static string RngBase64()
    {
        using var state = get_rng_state();
        return Convert.ToBase64String(state.bytes);
    }

    private void Restore(ValidatedCheckpoint checkpoint)
    {
        var state = checkpoint.State;
        ModelWeights.Load(_model, checkpoint.Model, $"preset '{_config.Preset}'");
        using (var scope = NewDisposeScope())
        using (no_grad())
        {
            var moments = checkpoint.Optimizer.ReadAll();
            _optimizer.LoadState(moments, state.OptimizerSteps, checkpoint.Optimizer.Path);
            if (_parallel?.RestoreAggregatorState(moments) is { } note) Log($"{checkpoint.Optimizer.Path}: {note}");
        }
        if (state.Rng.TorchCpu.Length > 0)
        {
            var bytes = Convert.FromBase64String(state.Rng.TorchCpu);
            using var rng = get_rng_state();
            if (rng.NumberOfElements != bytes.Length)
                throw new InvalidDataException($"{checkpoint.Info.Path}/{CheckpointStore.StateFile}: torch RNG state has {bytes.Length} bytes, this libtorch uses {rng.NumberOfElements}");
            bytes.CopyTo(rng.bytes);
            set_rng_state(rng);
        }
        _data.Train.Restore(state.DataCursor);
        _step = state.Step;
        _optimizerSteps = state.OptimizerSteps;
        _tokensSeen = state.TokensSeen;
        _nonFiniteSteps = state.NonFiniteSteps;
        _rollbacks = state.Rollbacks;
        _consecutiveNonFinite = 0;
        _lastCheckpointStep = _step;
    }

    /// <summary>
    /// After a loss spike at the current step: restore the newest valid checkpoint before it, then
    /// put the data cursor just past the spike's batches plus SkipSteps steps' worth (PaLM skipped
    /// ~200-500 batches around each spike). Returns false when there is nothing to roll back to.
    /// </summary>
    private bool RollBack(double spikeLoss)
    {
        var spikeStep = _step;
        var checkpoint = _store.NewestValid(maxStep: spikeStep - 1);
        if (checkpoint is null)
        {
            Log($"loss spike at step {spikeStep} ({spikeLoss:G4}) but no earlier checkpoint to roll back to; continuing");
            return false;
        }
        var afterSpike = _data.Train.Cursor;
        var rollbacks = _rollbacks + 1;
        var skipped = (long)_config.Spike.SkipSteps * _config.GradAccum;
        var recentMean = _spikes.RecentMean;
        Restore(checkpoint);
        _data.Train.Restore(afterSpike);
        _data.Train.Skip(skipped);
        _rollbacks = rollbacks;
        _metrics?.RewindTo(_step);
        _spikes.RewindTo(_step);
        Log($"loss spike at step {spikeStep} ({spikeLoss:G4} > {_config.Spike.Factor} x recent mean {recentMean:G4}): rolled back to step {_step} ({checkpoint.Info.Path}) and skipped {spikeStep - _step} steps' batches plus {skipped} more");
        return true;
    }
}
