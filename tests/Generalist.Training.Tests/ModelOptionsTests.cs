using System.Text.Json.Nodes;
using Generalist.Model;
using Generalist.RunFormat;
using Generalist.RunFormat.Checkpointing;

namespace Generalist.Training.Tests;

public class ModelOptionsTests
{
    [Fact]
    public void The_defaults_are_fourier_values_and_rotary_positions()
    {
        var shape = new RunConfig().ResolveModel();
        Assert.Equal(ValueEmbeddingKind.Fourier, shape.ValueEmbedding);
        Assert.Equal(AttentionPositionKind.Rope, shape.AttentionPositions);
        Assert.False(shape.ValueHead);
        Assert.True((new RunConfig() with { Model = new ModelOptions { ValueHead = true } }).ResolveModel().ValueHead);
        var gato = (new RunConfig() with { Model = ModelOptions.GatoExact }).ResolveModel();
        Assert.Equal((ValueEmbeddingKind.None, AttentionPositionKind.None), (gato.ValueEmbedding, gato.AttentionPositions));
    }

    [Theory]
    [InlineData("""{"model": {"value_embedding": "learned"}}""", "model.value_embedding")]
    [InlineData("""{"model": {"attention_positions": "alibi"}}""", "model.attention_positions")]
    [InlineData("""{"model": {"value_embedding": "none", "value_head": true}}""", "model.value_head")]
    [InlineData("""{"model": {"continuous_label_sigma": -2}}""", "model.continuous_label_sigma")]
    [InlineData("""{"model": null}""", "model")]
    [InlineData("""{"model": {"rope": true}}""", "model.rope")]
    [InlineData("""{"action_noise": 1.5}""", "action_noise")]
    [InlineData("""{"action_history_dropout": 1}""", "action_history_dropout")]
    [InlineData("""{"action_history_dropout": -0.1}""", "action_history_dropout")]
    [InlineData("""{"optimizer": {"decay_token_embedding": "no"}}""", "optimizer.decay_token_embedding")]
    public void Bad_model_options_name_the_field(string json, string field)
    {
        var e = Assert.Throws<ConfigException>(() => RunConfig.Parse(json));
        Assert.Contains(field, e.Message);
    }

    [Fact]
    public void A_trainer_state_written_before_the_model_section_reads_as_gato_exact()
    {
        using var cursor = System.Text.Json.JsonDocument.Parse("{}");
        var current = new TrainerState { Config = new RunConfig(), DataCursor = cursor.RootElement.Clone() };
        var node = JsonNode.Parse(current.ToJson())!;
        Assert.NotNull(node["config"]!["model"]);
        Assert.Equal("fourier", TrainerState.Parse(node.ToJsonString(), "new").Config.Model.ValueEmbedding);
        node["config"]!.AsObject().Remove("model");
        var legacy = TrainerState.Parse(node.ToJsonString(), "old");
        Assert.Equal(ModelOptions.GatoExact, legacy.Config.Model);
        Assert.Equal(ValueEmbeddingKind.None, legacy.Config.ResolveModel().ValueEmbedding);
    }
}
