namespace Generalist.Model;

/// <summary>A named model shape and why it exists.</summary>
public sealed record ModelPreset(string Name, string Purpose, ModelConfig Config);

/// <summary>
/// The model sizes the project trains. Counts are printed by <see cref="ParameterCounts"/> (see
/// src/Generalist.Model/README.md for the table). "Non-embedding" follows Kaplan et al.: the
/// transformer blocks and final norm, without token, position and patch embeddings or the head.
/// </summary>
public static class ModelPresets
{
    private static readonly ModelPreset[] All = Build();

    /// <summary>Every preset name, in size order within each group.</summary>
    public static IReadOnlyList<string> Names { get; } = All.Select(p => p.Name).ToArray();

    public static IReadOnlyList<ModelPreset> Presets => All;

    /// <summary>The config of a preset; an unknown name throws an ArgumentException listing the valid ones.</summary>
    public static ModelConfig Get(string name) => Find(name).Config;

    public static ModelPreset Find(string name)
    {
        ArgumentNullException.ThrowIfNull(name);
        return All.FirstOrDefault(p => string.Equals(p.Name, name.Trim(), StringComparison.OrdinalIgnoreCase))
            ?? throw new ArgumentException($"unknown model preset '{name}'; valid presets: {string.Join(", ", Names)}.");
    }

    private static ModelPreset[] Build()
    {
        var presets = new List<ModelPreset>
        {
            new("tiny", "tests and CPU demos (~1M non-embedding parameters)",
                Shape(layers: 5, dim: 128, heads: 4, context: 256)),
            new("small", "CPU training runs and the training benchmark (~10M)",
                Shape(layers: 6, dim: 384, heads: 6, context: 512)),
            // Gato (Reed et al. 2022, table 1): 79M = 8 layers, 768 embedding, 3072 MLP, 24 heads.
            new("base", "Gato's 79M shape (8 x 768, 24 heads), for GPU runs",
                Shape(layers: 8, dim: 768, heads: 24, context: 1024)),
            // Gato 364M: 12 layers, 1536 embedding, 6144 MLP, 12 heads.
            new("large", "Gato's 364M shape (12 x 1536, 12 heads), for GPU runs",
                Shape(layers: 12, dim: 1536, heads: 12, context: 1024)),
        };
        // The scaling ladder: depth and width grow together (width/depth 24..40, head size 16..64)
        // so that each rung has ~2.1-3x the non-embedding parameters of the one below, from
        // ~0.05M to ~29M; all share one context so that only the size varies in a study.
        (int Layers, int Dim, int Heads)[] ladder =
        [
            (2, 48, 3), (3, 64, 4), (4, 96, 3), (5, 128, 4),
            (6, 192, 6), (7, 256, 8), (9, 352, 11), (12, 448, 7),
        ];
        for (var i = 0; i < ladder.Length; i++)
        {
            var (layers, dim, heads) = ladder[i];
            presets.Add(new($"ladder-{i}", $"scaling ladder rung {i} ({layers} x {dim}, {heads} heads)",
                Shape(layers, dim, heads, context: 256)));
        }
        return presets.ToArray();
    }

    private static ModelConfig Shape(int layers, int dim, int heads, int context) =>
        new ModelConfig { Layers = layers, ModelDim = dim, Heads = heads, ContextLength = context }.Validate();
}
