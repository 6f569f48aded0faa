using System.Text.Json;

namespace Generalist.Model.Tests;

/// <summary>The model shape as JSON for builders outside .NET (bench/peer/ builds the model from it).</summary>
public class ModelConfigJsonTests
{
    [Fact]
    public void Every_field_is_written_in_snake_case_with_enum_names_derived_sizes_and_the_norm_groups()
    {
        var config = ModelPresets.Get("small") with
        {
            ValueEmbedding = ValueEmbeddingKind.Fourier,
            AttentionPositions = AttentionPositionKind.None,
            ValueHead = true,
        };
        using var doc = JsonDocument.Parse(ModelConfigJson.Serialize(config));
        var root = doc.RootElement;
        Assert.Equal(config.Layers, root.GetProperty("layers").GetInt32());
        Assert.Equal(config.Heads, root.GetProperty("heads").GetInt32());
        Assert.Equal(config.ModelDim, root.GetProperty("model_dim").GetInt32());
        Assert.Equal(config.MlpDim, root.GetProperty("mlp_dim").GetInt32());
        Assert.Equal(config.HeadDim, root.GetProperty("head_dim").GetInt32());
        Assert.Equal(config.ContinuousOffset, root.GetProperty("continuous_offset").GetInt32());
        Assert.Equal(config.RopeBase, root.GetProperty("rope_base").GetDouble());
        Assert.Equal("fourier", root.GetProperty("value_embedding").GetString());
        Assert.Equal("none", root.GetProperty("attention_positions").GetString());
        Assert.True(root.GetProperty("value_head").GetBoolean());
        Assert.Equal(ModelConfig.PatchNormGroups, root.GetProperty("patch_norm_groups").GetInt32());
        // Every public property of the record is there: a field added later reaches the peer too.
        var names = root.EnumerateObject().Select(p => p.Name).ToHashSet();
        foreach (var property in typeof(ModelConfig).GetProperties())
            Assert.Contains(JsonNamingPolicy.SnakeCaseLower.ConvertName(property.Name), names);
        Assert.Equal(root.GetRawText(), JsonSerializer.Serialize(ModelConfigJson.ToElement(config)));
    }
}
