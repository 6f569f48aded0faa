using System.Text.Json;
using Generalist.Model;
using Generalist.Training.Data;
using Generalist.Packing;
using Generalist.RunFormat;

namespace Generalist.Distributed.Harness;

/// <summary>
/// A learnable stand-in for the task catalog, so the real trainer can run under mpirun here:
/// each row counts upward from a start drawn from (seed, batch number, row), so batch k is a pure
/// function of (seed, k) like the real loader's, and its cursor is the next batch number.
/// </summary>
internal sealed class CountingData : ITrainingDataFactory
{
    public const int Vocab = 64;

    public static ModelConfig MicroModel { get; } = new ModelConfig
    {
        VocabSize = Vocab, Layers = 2, Heads = 2, ModelDim = 32, ContextLength = 32, PatchSize = 4,
        PatchHiddenChannels = 4, MaxLocalPositions = 32, MaxImageRows = 4, MaxImageCols = 4,
    }.Validate();

    public TrainingData Create(RunConfig config, ModelConfig model, Action<string>? log) =>
        new(new Source(config.BatchSize, model.ContextLength, model.PatchSize, config.Seed), null);

    /// <summary>Builds only the rows asked for (IRowRangeBatchSource), as the real loader does under mpirun.</summary>
    private sealed class Source(int batchSize, int length, int patchSize, long seed) : IRowRangeBatchSource
    {
        private long _next;
        public IReadOnlyList<string> TaskNames { get; } = ["count"];
        public JsonElement Cursor => JsonSerializer.SerializeToElement(new { next_batch = _next, seed });
        public void Restore(JsonElement cursor) => _next = cursor.GetProperty("next_batch").GetInt64();
        public void Skip(long batches) => _next += batches;

        public PackedBatch Next() => NextRows(0, batchSize);

        public PackedBatch NextRows(int firstRow, int rowCount)
        {
            var n = rowCount * length;
            var tokens = new long[n];
            var targets = new long[n];
            var mask = new float[n];
            var local = new long[n];
            for (var b = 0; b < rowCount; b++)
            {
                var start = new Random(unchecked((int)(seed * 1_000_003 + _next * 7919 + firstRow + b))).Next(0, 20);
                for (var i = 0; i < length; i++)
                {
                    var at = b * length + i;
                    tokens[at] = (start + i) % 20;
                    targets[at] = i + 1 < length ? (start + i + 1) % 20 : Vocab - 1;
                    mask[at] = i + 1 < length ? 1 : 0;
                    local[at] = i % 16;
                }
            }
            _next++;
            return new PackedBatch(rowCount, length, tokens, targets, mask, local, new long[n], Enumerable.Repeat(-1L, n).ToArray(),
                [], [], [], 0, patchSize, 3, TaskNames);
        }
    }
}
