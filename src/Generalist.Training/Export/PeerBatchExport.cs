using System.Globalization;
using System.Text.Json;
using Generalist.Model;
using Generalist.Training.Data;
using Generalist.Training.Loop;
using Generalist.Training.Optim;
using static TorchSharp.torch;
using Generalist.Packing;
using Generalist.RunFormat;
using Generalist.RunFormat.Checkpointing;
using Generalist.RunFormat.Safetensors;
using Generalist.Torch;

namespace Generalist.Training.Export;

/// <summary>What `generalist export-batch` reads and writes. Steps: AdamW updates replayed on the batch.</summary>
public sealed record PeerExportOptions(string Checkpoint, string Output, int Steps = 10, string? DataCacheDirectory = null);

/// <summary>What was exported: the batch's shape and our figures (also in the file, as reference.*).</summary>
public sealed record PeerExportResult(
    string Output,
    string Checkpoint,
    long CheckpointStep,
    int BatchSize,
    int ContextLength,
    int PatchCount,
    double LossTokens,
    double Loss,
    IReadOnlyDictionary<string, double> TaskLoss,
    double GradNorm,
    IReadOnlyList<double> Losses,
    IReadOnlyList<double> LearningRates);

/// <summary>
/// Exports one real packed batch of a checkpoint's run (the batch its data loader would produce
/// next) with our fp32 figures on it, for an independent implementation to reproduce
/// (bench/peer/): the loss, per-task losses and gradient norm at the checkpoint's weights, then
/// the loss before each of <see cref="PeerExportOptions.Steps"/> AdamW updates on that same batch
/// (and after the last), starting from the checkpoint's optimizer state with the run's schedule.
/// The step goes through <see cref="StepExecutor"/>, so the figures are exactly the trainer's.
/// The file holds the model inputs under their <see cref="ModelInputs"/> names (patch vectors
/// already gathered into position order) and the resolved model shape in its metadata, since the
/// preset table lives here and the peer must not guess it.
/// </summary>
public static class PeerBatchExport
{
    public const int MaxSteps = 1000;

    public static PeerExportResult Run(PeerExportOptions options, Action<string>? log = null)
    {
        if (options.Steps < 0 || options.Steps > MaxSteps) throw new ArgumentException($"--steps must be in [0, {MaxSteps}] (got {options.Steps})");
        // Checked first: the work below takes a while, and its result must have somewhere to go.
        var output = Path.GetFullPath(options.Output);
        var parent = Path.GetDirectoryName(output)!;
        if (!Directory.Exists(parent)) throw new DirectoryNotFoundException($"--out: directory {parent} does not exist");
        var checkpoint = ModelWeights.Open(options.Checkpoint);
        var state = checkpoint.State;
        var config = state.Config;
        var modelConfig = config.ResolveModel();
        var optimizerFile = OpenOptimizer(checkpoint);

        using var scope = NewDisposeScope();
        using var model = new GeneralistModel(modelConfig, config.Seed);
        ModelWeights.Load(model, checkpoint.Model, $"preset '{config.Preset}'");
        model.train();
        using var optimizer = new AdamW(model.named_parameters().Select(p => (p.name, p.parameter)), AdamWOptions.From(config.Optimizer));
        optimizer.LoadState(optimizerFile.ReadAll(), state.OptimizerSteps, optimizerFile.Path);

        var data = new CatalogTrainingData(options.DataCacheDirectory).Create(config, modelConfig, log);
        data.Train.Restore(state.DataCursor);
        var batch = data.Train.Next();
        log?.Invoke($"batch {batch.BatchSize} x {batch.ContextLength} from {checkpoint.Path} (step {state.Step}): {batch.NumPatches} patches, {batch.LossMask.Sum(m => (double)m)} loss tokens");

        // fp32 whatever the run used: the comparison is of the arithmetic, not of a rounding mode.
        var executor = new StepExecutor(model, optimizer, new StepOptions(1, config.Optimizer.GradClip, Precision.Fp32, CPU, config.Model.ContinuousLabelSigma));
        var schedule = LearningRateSchedule.From(config);
        var source = new RepeatedBatch(batch);
        var losses = new List<double>();
        var norms = new List<double>();
        var rates = new List<double>();
        TrainingStepResult? first = null;
        for (var i = 0; i < options.Steps; i++)
        {
            var lr = schedule.At(state.OptimizerSteps + 1 + i);
            var r = executor.Run(source, lr);
            if (r.Skipped) throw new InvalidDataException($"{checkpoint.Path}: step {i + 1} on the exported batch was not finite (loss {r.Loss}, grad norm {r.GradNorm})");
            first ??= r;
            losses.Add(r.Loss);
            norms.Add(r.GradNorm);
            rates.Add(lr);
        }
        var (finalLoss, taskLoss, gradNorm) = FinalFigures(model, batch, config, first, options.Steps);
        losses.Add(finalLoss);

        using var inputs = ModelInputs.From(batch, CPU, modelConfig);
        using var targets = LossTargets.From(batch, CPU);
        var taskNames = batch.TaskNames.Count > 0 ? batch.TaskNames : ["task"];
        var taskValues = taskNames.Select(n => taskLoss.TryGetValue(n, out var v) ? v : double.NaN).ToArray();
        var tensors = new List<(string, Tensor)>
        {
            ("tokens", inputs.Tokens), ("local_positions", inputs.LocalPositions), ("patch_positions", inputs.PatchPositions),
            ("patches", inputs.Patches), ("patch_rows", inputs.PatchRows), ("patch_cols", inputs.PatchCols),
            ("targets", targets.Targets), ("loss_mask", targets.LossMask), ("task_ids", targets.TaskIds),
            ("reference.losses", tensor(losses.ToArray(), ScalarType.Float64)),
            ("reference.grad_norms", tensor(options.Steps > 0 ? norms.ToArray() : [gradNorm], ScalarType.Float64)),
            ("reference.learning_rates", tensor(rates.ToArray(), ScalarType.Float64)),
            ("reference.task_loss", tensor(taskValues, ScalarType.Float64)),
        };
        var metadata = new Dictionary<string, string>
        {
            ["format"] = "generalist-peer-batch/1",
            ["checkpoint"] = checkpoint.Path,
            ["checkpoint_step"] = state.Step.ToString(CultureInfo.InvariantCulture),
            ["optimizer_steps"] = state.OptimizerSteps.ToString(CultureInfo.InvariantCulture),
            ["steps"] = options.Steps.ToString(CultureInfo.InvariantCulture),
            ["task_names"] = JsonSerializer.Serialize(taskNames),
            ["model_config"] = ModelConfigJson.Serialize(modelConfig),
            ["threads"] = get_num_threads().ToString(CultureInfo.InvariantCulture),
        };
        SafetensorsWriter.Write(output, tensors, metadata);
        return new PeerExportResult(output, checkpoint.Path, state.Step, batch.BatchSize, batch.ContextLength, inputs.PatchCount,
            batch.LossMask.Sum(m => (double)m), losses[0], taskLoss, gradNorm, losses, rates);
    }

    /// <summary>The optimizer file of the checkpoint, checked against the checksum its state recorded.</summary>
    private static SafetensorsFile OpenOptimizer(ModelCheckpoint checkpoint)
    {
        var file = SafetensorsFile.Open(Path.Combine(checkpoint.Path, CheckpointStore.OptimizerFile));
        if (!checkpoint.State.Checksums.TryGetValue(CheckpointStore.OptimizerFile, out var expected) || expected != file.Metadata[SafetensorsWriter.ChecksumKey])
            throw new InvalidDataException($"{file.Path}: checksum does not match the one recorded in {checkpoint.Path}/{CheckpointStore.StateFile}");
        return file;
    }

    /// <summary>
    /// The loss after the last update (a forward without update), and the step-0 per-task losses
    /// and gradient norm; with no steps at all those come from one forward and backward here.
    /// </summary>
    private static (double Loss, IReadOnlyDictionary<string, double> TaskLoss, double GradNorm) FinalFigures(
        GeneralistModel model, PackedBatch batch, RunConfig config, TrainingStepResult? first, int steps)
    {
        using var scope = NewDisposeScope();
        var taskCount = Math.Max(1, batch.TaskNames.Count);
        using var inputs = ModelInputs.From(batch, CPU);
        using var targets = LossTargets.From(batch, CPU);
        var output = model.Loss(inputs, targets.Targets, targets.LossMask, targets.TaskIds, taskCount, config.Model.ContinuousLabelSigma);
        var loss = output.Loss.item<float>();
        if (steps > 0) return (loss, first!.TaskLoss, first.GradNorm);
        output.Loss.backward();
        var grads = model.parameters().Where(p => p.grad is not null).Select(p => p.grad!.norm()).ToArray();
        var norm = stack(grads).norm().item<float>();
        var sums = output.TaskSums.data<float>().ToArray();
        var counts = output.TaskCounts.data<float>().ToArray();
        var tasks = new Dictionary<string, double>(StringComparer.Ordinal);
        for (var t = 0; t < batch.TaskNames.Count; t++)
            if (counts[t] > 0) tasks[batch.TaskNames[t]] = sums[t] / counts[t];
        foreach (var p in model.parameters()) p.grad = null;
        return (loss, tasks, norm);
    }

    /// <summary>The same batch every time: the replayed steps differ only by the weights.</summary>
    private sealed class RepeatedBatch(PackedBatch batch) : IBatchSource
    {
        public IReadOnlyList<string> TaskNames => batch.TaskNames;
        public PackedBatch Next() => batch;
        public JsonElement Cursor => JsonSerializer.SerializeToElement(new { repeated = true });
        public void Restore(JsonElement cursor) { }
        public void Skip(long batches) { }
    }
}
