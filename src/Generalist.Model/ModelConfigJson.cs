using System.Text.Json;
using System.Text.Json.Nodes;
using System.Text.Json.Serialization;

namespace Generalist.Model;

/// <summary>
/// A resolved <see cref="ModelConfig"/> as JSON (snake_case fields, enums as lowercase names, the
/// derived head_dim, mlp_dim and patch_dim included), for readers outside .NET that must build the
/// same model: the PyTorch peer in bench/peer/ reads it from `generalist export-batch` files and
/// from `generalist models --json`. The preset table stays here, in one place.
/// </summary>
public static class ModelConfigJson
{
    private static readonly JsonSerializerOptions Options = new()
    {
        PropertyNamingPolicy = JsonNamingPolicy.SnakeCaseLower,
        Converters = { new JsonStringEnumConverter(JsonNamingPolicy.SnakeCaseLower) },
    };

    public static string Serialize(ModelConfig config) => ToNode(config).ToJsonString();

    public static JsonElement ToElement(ModelConfig config) => JsonSerializer.SerializeToElement(ToNode(config));

    /// <summary>The properties plus the architecture constants (a const is not serialized by itself).</summary>
    private static JsonObject ToNode(ModelConfig config)
    {
        var node = JsonSerializer.SerializeToNode(config, Options)!.AsObject();
        node["patch_norm_groups"] = ModelConfig.PatchNormGroups;
        return node;
    }
}
