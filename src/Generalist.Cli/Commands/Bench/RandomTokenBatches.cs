using System.Text.Json;
using Generalist.Training.Data;
using Generalist.Packing;

namespace Generalist.Cli.Commands.Bench;

/// <summary>
/// Batches of uniformly random text tokens with every target in the loss, for throughput
/// measurement: the model does exactly the work of a real batch of the same shape, without the
/// data sets (which the benchmark must not depend on). Deterministic per (seed, batch number).
/// Row b belongs to task b mod the task count; local positions cycle with <paramref name="localPeriod"/>.
/// </summary>
public sealed class RandomTokenBatches(int batchSize, int contextLength, int vocabularyRange, long seed,
    IReadOnlyList<string>? taskNames = null, int localPeriod = 64, int patchSize = 16) : IBatchSource
{
    private long _next;

    public IReadOnlyList<string> TaskNames { get; } = taskNames ?? ["random"];

    public PackedBatch Next()
    {
        var rng = new Random(unchecked((int)(seed * 1_000_003 + _next++)));
        var n = batchSize * contextLength;
        var tokens = new long[n];
        for (var i = 0; i < n; i++) tokens[i] = rng.Next(vocabularyRange);
        var targets = new long[n];
        var mask = new float[n];
        var local = new long[n];
        var taskIds = new long[n];
        for (var b = 0; b < batchSize; b++)
            for (var t = 0; t < contextLength; t++)
            {
                var i = b * contextLength + t;
                var last = t == contextLength - 1;
                targets[i] = last ? 0 : tokens[i + 1];
                mask[i] = last ? 0 : 1;
                local[i] = t % localPeriod;
                taskIds[i] = b % TaskNames.Count;
            }
        return new PackedBatch(batchSize, contextLength, tokens, targets, mask, local, taskIds,
            Enumerable.Repeat(-1L, n).ToArray(), [], [], [], 0, patchSize, 3, TaskNames);
    }

    public JsonElement Cursor => JsonSerializer.SerializeToElement(new { next_batch = _next });

    public void Restore(JsonElement cursor) => _next = cursor.GetProperty("next_batch").GetInt64();

    public void Skip(long batches) => _next += batches;
}
