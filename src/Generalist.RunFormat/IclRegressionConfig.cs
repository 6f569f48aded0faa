using System.Text.Json.Serialization;
using Generalist.Datasets.Sets;

namespace Generalist.RunFormat;

/// <summary>
/// Run config section <c>icl_regression</c>: the in-context regression task's shape (used only
/// when the mixture holds icl-regression; the evaluator reads it from the checkpoint's config, so
/// it scores the task the run trained on). Defaults are the task as it was before the section
/// existed (d = 8, 32 pairs, noiseless, dense Gaussian w), so older checkpoints read unchanged.
/// </summary>
public sealed record IclRegressionConfig
{
    /// <summary>d: length of x.</summary>
    [JsonPropertyName("dimension")] public int Dimension { get; init; } = 8;
    /// <summary>(x, y) pairs per sequence; each takes d + 2 tokens (x, separator, y).</summary>
    [JsonPropertyName("pairs")] public int Pairs { get; init; } = 32;
    /// <summary>Gaussian noise on f(x), in units of f's standard deviation (0: noiseless).</summary>
    [JsonPropertyName("noise_std")] public double NoiseStd { get; init; }
    /// <summary>x ~ N(0, input_scale^2 I).</summary>
    [JsonPropertyName("input_scale")] public double InputScale { get; init; } = 1.0;
    /// <summary>gaussian (dense w), sparse (sparse_nonzero coordinates of w), relu2 (2-layer ReLU network).</summary>
    [JsonPropertyName("function")] public string Function { get; init; } = IclFunctionKinds.Gaussian;
    /// <summary>Nonzero coordinates of w for "sparse" (Garg et al.: 3 of 20).</summary>
    [JsonPropertyName("sparse_nonzero")] public int SparseNonZero { get; init; } = 3;
    /// <summary>Hidden units of the "relu2" target network (Garg et al.: 100).</summary>
    [JsonPropertyName("hidden_units")] public int HiddenUnits { get; init; } = 100;
    /// <summary>Dimension and pairs growing over training (Garg et al.); every_steps 0 = off.</summary>
    [JsonPropertyName("curriculum")] public IclCurriculumConfig Curriculum { get; init; } = new();

    /// <summary>The data set's options (call after <see cref="RunConfig.Validate"/>).</summary>
    public IclRegressionOptions ToOptions() => new(Dimension, Pairs, NoiseStd, InputScale, Function ?? "", SparseNonZero, HiddenUnits,
        Curriculum is { EverySteps: > 0 } c ? new IclCurriculum(c.StartDimension, c.StartPairs, c.EverySteps, c.DimensionIncrement, c.PairsIncrement) : null);
}

/// <summary>The curriculum of <see cref="IclRegressionConfig"/>: off while every_steps is 0.</summary>
public sealed record IclCurriculumConfig
{
    /// <summary>Steps per stage; 0 = no curriculum (the full task from step 0).</summary>
    [JsonPropertyName("every_steps")] public int EverySteps { get; init; }
    /// <summary>Active dimensions in stage 0 (Garg et al.: 5 of 20).</summary>
    [JsonPropertyName("start_dimension")] public int StartDimension { get; init; } = 2;
    /// <summary>Pairs in stage 0 (Garg et al.: 11 of 41).</summary>
    [JsonPropertyName("start_pairs")] public int StartPairs { get; init; } = 4;
    /// <summary>Dimensions added per stage.</summary>
    [JsonPropertyName("dimension_increment")] public int DimensionIncrement { get; init; } = 1;
    /// <summary>Pairs added per stage.</summary>
    [JsonPropertyName("pairs_increment")] public int PairsIncrement { get; init; } = 2;
}
