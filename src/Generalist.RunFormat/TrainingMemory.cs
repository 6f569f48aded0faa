using System.Globalization;
using Generalist.Model;
using Generalist.Torch;

namespace Generalist.RunFormat;

/// <summary>
/// A lower bound on the memory one training step needs, from the shape alone, so that a run that
/// cannot fit is refused before a byte is allocated (instead of dying in libtorch after gigabytes):
/// parameters with their gradients and AdamW's two moments (4 fp32 copies: 16 bytes each), plus
/// the activations kept for the backward pass, at least (9 + 2 x mlp_ratio) x d values per token
/// and layer (the norms' inputs and outputs, q/k/v, attention and projection outputs, the MLP's two
/// hidden tensors: Korthikanti et al. 2022, section 4, without the T^2 attention term, which a
/// fused attention kernel avoids), plus the fp32 logits and their gradient (2 x V per token).
/// A lower bound on purpose: a run it refuses certainly does not fit; one it passes may still not.
/// </summary>
public sealed record TrainingMemory(long ParameterBytes, long ActivationBytes)
{
    public long TotalBytes => ParameterBytes + ActivationBytes;

    public static TrainingMemory Estimate(ModelConfig model, int batchSize, Precision precision)
    {
        var parameters = ParameterCounts.For(model).Total;
        double tokens = (double)batchSize * model.ContextLength;
        var bytesPerValue = precision == Precision.Bf16 ? 2.0 : 4.0;
        var perTokenAndLayer = (9.0 + 2.0 * model.MlpRatio) * model.ModelDim * bytesPerValue;
        var activations = tokens * (model.Layers * perTokenAndLayer + 2.0 * model.VocabSize * 4.0);
        return new TrainingMemory(Saturate(parameters * 16.0), Saturate(activations));
    }

    /// <summary>
    /// The memory this process may use on the CPU (physical memory, or the container's limit):
    /// what a run on device "cpu" is checked against. CUDA devices are not checked here (TorchSharp
    /// 0.107 cannot ask a GPU for its memory without a CUDA context; the trainer reports an
    /// out-of-memory there at the first step).
    /// </summary>
    public static long AvailableCpuBytes() => GC.GetGCMemoryInfo().TotalAvailableMemoryBytes;

    public static string GiB(long bytes) => (bytes / (double)(1L << 30)).ToString("F1", CultureInfo.InvariantCulture) + " GiB";

    private static long Saturate(double bytes) => bytes >= long.MaxValue ? long.MaxValue : (long)bytes;
}
