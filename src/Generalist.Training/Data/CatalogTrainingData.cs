using System.Text.Json;
using Generalist.Datasets;
using Generalist.Model;
using Generalist.Tokenizers;
using Generalist.Packing;
using Generalist.RunFormat;

namespace Generalist.Training.Data;

/// <summary>
/// The real data of a run: each task of the config from <see cref="TaskCatalog"/> (fetched and
/// verified on first use), mixed by weight through the tokenizers' <see cref="MixtureLoader"/>.
/// Held-out batches come from a one-task loader over the task's held-out episodes with a fixed
/// seed, so every evaluation sees the same batches.
/// </summary>
public sealed class CatalogTrainingData(string? cacheDirectory = null) : ITrainingDataFactory
{
    public TrainingData Create(RunConfig config, ModelConfig model, Action<string>? log)
    {
        var options = config.DataOptionsIn(cacheDirectory ?? DataOptions.Default.CacheDirectory);
        var progress = log is null ? null : new Progress(log);
        var loaded = new List<TaskData>();
        for (var i = 0; i < config.Tasks.Count; i++)
        {
            try
            {
                loaded.Add(TaskCatalog.Load(config.Tasks[i].Name, options, progress));
            }
            catch (ArgumentException e) when (e.Message.StartsWith("unknown task", StringComparison.Ordinal))
            {
                throw new ConfigException($"tasks[{i}].name", $"tasks[{i}].name: {e.Message}");
            }
        }
        var loaderOptions = new LoaderOptions(model.ContextLength, config.BatchSize, model.PatchSize, config.PromptProbability, config.Seed, config.GradAccum)
        {
            ActionHistoryDropout = config.ActionHistoryDropout,
        };
        var streams = loaded.Select((t, i) => new TaskStream(t.Name, config.Tasks[i].Weight, t.Train)).ToList();
        var train = new MixtureLoader(streams, loaderOptions, VocabularyLayout.Default);
        var heldOut = new HeldOutLoaders(loaded, loaderOptions with { Seed = HeldOutSeed, ActionHistoryDropout = 0 });
        return new TrainingData(new MixtureBatchSource(train), heldOut);
    }

    /// <summary>Fixed, so held-out batches do not depend on the run's seed either.</summary>
    public const long HeldOutSeed = 7_777_777;

    /// <summary>Passes stage messages on once each (the catalog reports every episode of a stage).</summary>
    private sealed class Progress(Action<string> log) : IProgress<DataProgress>
    {
        private string? _last;

        public void Report(DataProgress value)
        {
            var line = $"{value.Task}: {value.Message}";
            if (line == _last) return;
            _last = line;
            log(line);
        }
    }

    private sealed class HeldOutLoaders(IReadOnlyList<TaskData> tasks, LoaderOptions options) : IHeldOutSource
    {
        private readonly Dictionary<string, MixtureLoader> _loaders = tasks.ToDictionary(
            t => t.Name,
            // No prompts at held-out time: the loss is that of the task itself.
            t => new MixtureLoader([new TaskStream(t.Name, 1.0, t.HeldOut)], options with { PromptProbability = 0 }, VocabularyLayout.Default));

        public IReadOnlyList<string> Tasks { get; } = tasks.Select(t => t.Name).ToArray();

        public PackedBatch Batch(string task, int index) => _loaders[task].BuildBatch(index);
    }
}

/// <summary><see cref="IBatchSource"/> over a <see cref="MixtureLoader"/>; its cursor is the loader's <see cref="LoaderCursor"/>.</summary>
public sealed class MixtureBatchSource(MixtureLoader loader) : IRowRangeBatchSource
{
    public IReadOnlyList<string> TaskNames => loader.TaskNames;

    public PackedBatch Next() => loader.Next();

    public PackedBatch NextRows(int firstRow, int rowCount) => loader.NextRows(firstRow, rowCount);

    public JsonElement Cursor => JsonSerializer.SerializeToElement(loader.Cursor);

    public void Restore(JsonElement cursor)
    {
        LoaderCursor? parsed;
        try
        {
            parsed = cursor.Deserialize<LoaderCursor>();
        }
        catch (JsonException e)
        {
            throw new InvalidDataException($"data_cursor is not a loader cursor: {e.Message}");
        }
        if (parsed is null) throw new InvalidDataException("data_cursor is empty");
        try
        {
            loader.Restore(parsed);
        }
        catch (ArgumentException e)
        {
            throw new InvalidDataException($"data_cursor does not fit this run's data: {e.Message}");
        }
    }

    public void Skip(long batches)
    {
        var c = loader.Cursor;
        loader.Restore(c with { NextBatch = c.NextBatch + batches });
    }
}
