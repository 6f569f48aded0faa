using Generalist.Tokenizers;
using Generalist.Packing;

namespace Generalist.Model.Tests;

/// <summary>Seeded packed batches shaped like the tokenizer's: text, image patches, observation values, actions.</summary>
internal static class SyntheticBatches
{
    /// <summary>
    /// A batch whose every sequence holds one image of `rows x cols` patches starting at
    /// `imageStart`, observation values and separators with mask 0, and text/action targets with
    /// mask 1. Three tasks.
    /// </summary>
    public static PackedBatch Create(ModelConfig config, int batchSize, int length, int seed,
        int imageStart = 3, int rows = 2, int cols = 2, int vocabularyLimit = 0)
    {
        var random = new Random(seed);
        var limit = vocabularyLimit > 0 ? vocabularyLimit : config.VocabSize;
        var n = batchSize * length;
        var tokens = new long[n];
        var targets = new long[n];
        var mask = new float[n];
        var local = new long[n];
        var tasks = new long[n];
        var patchIndex = Enumerable.Repeat(-1L, n).ToArray();
        var patchCount = rows * cols;
        var patchDim = config.PatchDim;
        var numPatches = batchSize * patchCount;
        var patches = new float[numPatches * patchDim];
        var patchRows = new long[numPatches];
        var patchCols = new long[numPatches];
        var pad = VocabularyLayout.Default.Pad;
        for (var i = 0; i < patches.Length; i++) patches[i] = (float)((random.NextDouble() * 2 - 1) / Math.Sqrt(config.PatchSize));
        for (var b = 0; b < batchSize; b++)
        {
            var task = b % 3;
            for (var t = 0; t < length; t++)
            {
                var i = b * length + t;
                var inImage = t >= imageStart && t < imageStart + patchCount;
                tokens[i] = inImage ? pad : random.Next(limit);
                local[i] = t % 8;
                tasks[i] = task;
                if (inImage)
                {
                    var p = b * patchCount + (t - imageStart);
                    patchIndex[i] = p;
                    patchRows[p] = (t - imageStart) / cols;
                    patchCols[p] = (t - imageStart) % cols;
                }
            }
            for (var t = 0; t < length; t++)
            {
                var i = b * length + t;
                targets[i] = t + 1 < length ? tokens[i + 1] : pad;
                // Text/action targets count; targets that are patches, observation values
                // (every third position stands in for one) or missing do not.
                var nextIsPatch = t + 1 < length && patchIndex[i + 1] >= 0;
                mask[i] = t + 1 < length && !nextIsPatch && (t % 3 != 0) ? 1f : 0f;
            }
        }
        return new PackedBatch(batchSize, length, tokens, targets, mask, local, tasks, patchIndex, patches,
            patchRows, patchCols, numPatches, config.PatchSize, config.PatchChannels, ["control", "text", "images"]);
    }

    /// <summary>A small config for fast tests: 2 layers, width 32, 4 x 4 patches, context 24.</summary>
    public static ModelConfig SmallConfig(int context = 24, int layers = 2) => new ModelConfig
    {
        Layers = layers, ModelDim = 32, Heads = 4, ContextLength = context, PatchSize = 4,
        PatchHiddenChannels = 8, MaxLocalPositions = 16, MaxImageRows = 4, MaxImageCols = 4,
    }.Validate();
}

internal static class PackedBatchSlicing
{
    /// <summary>Positions [from, from + count) of every sequence of a batch, as model inputs (patches kept whole).</summary>
    public static ModelInputs Slice(this Generalist.Packing.PackedBatch batch, int from, int count, ModelConfig config)
    {
        long[] Take(long[] values)
        {
            var result = new long[batch.BatchSize * count];
            for (var b = 0; b < batch.BatchSize; b++) Array.Copy(values, b * batch.ContextLength + from, result, b * count, count);
            return result;
        }
        return ModelInputs.Create(batch.BatchSize, count, Take(batch.Tokens), Take(batch.LocalPositions), Take(batch.PatchIndex),
            batch.Patches, batch.PatchRows, batch.PatchCols, batch.NumPatches, config.PatchDim, TorchSharp.torch.CPU, config);
    }
}
