using System.Text.Json;
using Generalist.Model;
using Generalist.Training.Data;
using Generalist.Packing;
using Generalist.RunFormat;

namespace Generalist.Training.Tests;

/// <summary>
/// Small learnable tasks as packed batches, each batch a pure function of (seed, batch number):
/// "count" (s, s+1, s+2, ...), "repeat" (a 3-token pattern repeated) and "pixels" (4 image patches
/// whose brightness decides the tokens that follow; patch targets carry no loss).
/// </summary>
internal sealed class SyntheticData : ITrainingDataFactory
{
    public const int Vocab = 64;
    public const int Pad = Vocab - 1;

    public static ModelConfig MicroModel { get; } = new ModelConfig
    {
        VocabSize = Vocab, Layers = 2, Heads = 2, ModelDim = 32, ContextLength = 32, PatchSize = 4,
        PatchHiddenChannels = 4, MaxLocalPositions = 32, MaxImageRows = 4, MaxImageCols = 4,
    }.Validate();

    /// <summary>Every batch number handed out by any source this factory made, in order (to check skips).</summary>
    public List<long> Served { get; } = [];

    public TrainingData Create(RunConfig config, ModelConfig model, Action<string>? log)
    {
        var names = config.Tasks.Select(t => t.Name).ToArray();
        var train = new Source(names, config.BatchSize, model.ContextLength, model.PatchSize, config.Seed, Served);
        return new TrainingData(train, new HeldOut(names, config.BatchSize, model.ContextLength, model.PatchSize, config.Seed + 1_000_003));
    }

    internal static PackedBatch Build(IReadOnlyList<string> tasks, int batchSize, int length, int patchSize, long seed, long number, int? onlyTask = null) =>
        BuildRows(tasks, batchSize, 0, batchSize, length, patchSize, seed, number, onlyTask);

    /// <summary>Rows [firstRow, firstRow + rowCount) of the batch <see cref="Build"/> makes: each row depends only on (seed, number, row).</summary>
    internal static PackedBatch BuildRows(IReadOnlyList<string> tasks, int batchSize, int firstRow, int rowCount, int length, int patchSize, long seed, long number, int? onlyTask = null)
    {
        var n = rowCount * length;
        var tokens = new long[n];
        var targets = new long[n];
        var mask = new float[n];
        var local = new long[n];
        var taskIds = new long[n];
        var patchIndex = Enumerable.Repeat(-1L, n).ToArray();
        var patchDim = 3 * patchSize * patchSize;
        var patches = new List<float>();
        var rows = new List<long>();
        var cols = new List<long>();
        for (var b = 0; b < rowCount; b++)
        {
            var globalRow = firstRow + b;
            // Not HashCode.Combine: its seed changes per process, and golden numbers must not.
            var rng = new Random(unchecked((int)(seed * 1_000_003 + number * 7919 + globalRow)));
            var t = onlyTask ?? (int)((number * batchSize + globalRow) % tasks.Count);
            var row = new long[length];
            var isPatch = new bool[length];
            switch (tasks[t])
            {
                case "pixels":
                    var bright = rng.Next(2);
                    for (var i = 0; i < 4; i++)
                    {
                        isPatch[i] = true;
                        patchIndex[b * length + i] = rows.Count;
                        rows.Add(i / 2);
                        cols.Add(i % 2);
                        for (var k = 0; k < patchDim; k++) patches.Add((float)((bright * 2 - 1) * 0.5 + rng.NextDouble() * 0.1));
                        row[i] = Pad;
                    }
                    for (var i = 4; i < length; i++) row[i] = bright == 1 ? 40 + (i % 3) : 50 + (i % 2);
                    break;
                case "repeat":
                    var pattern = new long[] { rng.Next(20, 40), rng.Next(20, 40), rng.Next(20, 40) };
                    for (var i = 0; i < length; i++) row[i] = pattern[i % 3];
                    break;
                default:
                    var start = rng.Next(0, 20);
                    for (var i = 0; i < length; i++) row[i] = (start + i) % 20;
                    break;
            }
            for (var i = 0; i < length; i++)
            {
                var at = b * length + i;
                tokens[at] = row[i];
                local[at] = i % 16;
                taskIds[at] = onlyTask is null ? t : 0;
                var hasNext = i + 1 < length && !isPatch[i + 1];
                targets[at] = hasNext ? row[i + 1] : Pad;
                mask[at] = hasNext ? 1f : 0f;
            }
        }
        return new PackedBatch(rowCount, length, tokens, targets, mask, local, taskIds, patchIndex, patches.ToArray(),
            rows.ToArray(), cols.ToArray(), rows.Count, patchSize, 3, onlyTask is { } o ? [tasks[o]] : tasks);
    }

    private sealed class Source(string[] tasks, int batchSize, int length, int patchSize, long seed, List<long> served) : IRowRangeBatchSource
    {
        private long _next;
        private readonly string _fingerprint = $"{seed}:{batchSize}:{length}:{string.Join(",", tasks)}";

        public IReadOnlyList<string> TaskNames => tasks;
        public long NextBatch => _next;

        public PackedBatch Next()
        {
            served.Add(_next);
            return Build(tasks, batchSize, length, patchSize, seed, _next++);
        }

        public PackedBatch NextRows(int firstRow, int rowCount)
        {
            served.Add(_next);
            return BuildRows(tasks, batchSize, firstRow, rowCount, length, patchSize, seed, _next++);
        }

        public JsonElement Cursor => JsonSerializer.SerializeToElement(new { next_batch = _next, fingerprint = _fingerprint });

        public void Restore(JsonElement cursor)
        {
            if (cursor.GetProperty("fingerprint").GetString() != _fingerprint) throw new InvalidDataException("cursor belongs to other data");
            _next = cursor.GetProperty("next_batch").GetInt64();
        }

        public void Skip(long batches) => _next += batches;
    }

    private sealed class HeldOut(string[] tasks, int batchSize, int length, int patchSize, long seed) : IHeldOutSource
    {
        public IReadOnlyList<string> Tasks => tasks;

        public PackedBatch Batch(string task, int index) =>
            Build(tasks, batchSize, length, patchSize, seed, index, Array.IndexOf(tasks, task));
    }
}
