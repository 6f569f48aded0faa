using System.Text.Json;
using Generalist.Model;
using Generalist.Training.Data;
using Generalist.Packing;
using Generalist.RunFormat;

namespace Generalist.Cli.Commands.Bench;

/// <summary>
/// Seeded random text-token batches at the model's context length, for benchmarks that time what
/// happens around a real training step (the step's cost depends on the shapes, not on the data).
/// </summary>
internal sealed class BenchTokenData : ITrainingDataFactory
{
    public TrainingData Create(RunConfig config, ModelConfig model, Action<string>? log)
    {
        var tasks = config.Tasks.Select(t => t.Name).ToArray();
        var length = config.ContextLength > 0 ? config.ContextLength : model.ContextLength;
        return new TrainingData(new Source(tasks, config.BatchSize, length, model.PatchSize, Math.Min(model.VocabSize, 8192), config.Seed), null);
    }

    private sealed class Source(string[] tasks, int batchSize, int length, int patchSize, int vocab, long seed) : IBatchSource
    {
        private long _next;

        public IReadOnlyList<string> TaskNames => tasks;

        public PackedBatch Next()
        {
            var n = batchSize * length;
            var rng = new Random(unchecked((int)(seed * 1_000_003 + _next++)));
            var tokens = new long[n];
            for (var i = 0; i < n; i++) tokens[i] = rng.Next(vocab);
            var targets = new long[n];
            var mask = new float[n];
            var local = new long[n];
            var taskIds = new long[n];
            for (var b = 0; b < batchSize; b++)
                for (var i = 0; i < length; i++)
                {
                    var at = b * length + i;
                    var last = i == length - 1;
                    targets[at] = last ? 0 : tokens[at + 1];
                    mask[at] = last ? 0f : 1f;
                    local[at] = i % 16;
                    taskIds[at] = b % tasks.Length;
                }
            return new PackedBatch(batchSize, length, tokens, targets, mask, local, taskIds, Enumerable.Repeat(-1L, n).ToArray(), [], [], [], 0, patchSize, 3, tasks);
        }

        public JsonElement Cursor => JsonSerializer.SerializeToElement(new { next_batch = _next });
        public void Restore(JsonElement cursor) => _next = cursor.GetProperty("next_batch").GetInt64();
        public void Skip(long batches) => _next += batches;
    }
}
