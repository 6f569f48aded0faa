using static TorchSharp.torch;

namespace Generalist.Model.Tests;

public class PresetTests
{
    [Theory]
    [InlineData("tiny", 0.7e6, 1.3e6)]
    [InlineData("small", 8e6, 12e6)]
    [InlineData("base", 50e6, 60e6)]     // Gato's 79M shape; its 79M also counts a 32k-token embedding
    [InlineData("large", 330e6, 345e6)]  // Gato's 364M shape
    public void Presets_have_non_embedding_parameters_in_their_documented_range(string name, double min, double max)
    {
        var counts = ParameterCounts.For(ModelPresets.Get(name));
        Assert.InRange(counts.NonEmbedding, (long)min, (long)max);
    }

    [Fact]
    public void Gato_shapes_are_kept()
    {
        var b = ModelPresets.Get("base");
        Assert.Equal((8, 768, 24, 3072), (b.Layers, b.ModelDim, b.Heads, b.MlpDim));
        var l = ModelPresets.Get("large");
        Assert.Equal((12, 1536, 12, 6144), (l.Layers, l.ModelDim, l.Heads, l.MlpDim));
    }

    [Fact]
    public void The_ladder_spans_005M_to_30M_and_grows_at_every_rung()
    {
        var ladder = ModelPresets.Names.Where(n => n.StartsWith("ladder-", StringComparison.Ordinal))
            .Select(n => ParameterCounts.For(ModelPresets.Get(n)).NonEmbedding).ToArray();
        Assert.Equal(8, ladder.Length);
        Assert.InRange(ladder[0], 40_000, 70_000);
        Assert.InRange(ladder[^1], 20_000_000, 35_000_000);
        for (var i = 1; i < ladder.Length; i++) Assert.InRange(ladder[i] / (double)ladder[i - 1], 1.8, 3.5);
    }

    [Fact]
    public void An_unknown_preset_lists_the_valid_names()
    {
        var e = Assert.Throws<ArgumentException>(() => ModelPresets.Get("huge"));
        Assert.Contains("'huge'", e.Message);
        foreach (var name in ModelPresets.Names) Assert.Contains(name, e.Message);
        Assert.Equal("tiny", ModelPresets.Find(" TINY ").Name);
    }

    [Theory]
    [InlineData("tiny", true, ValueEmbeddingKind.Fourier)]
    [InlineData("ladder-1", false, ValueEmbeddingKind.Fourier)]
    [InlineData("tiny", true, ValueEmbeddingKind.None)]
    public void Counts_from_the_config_equal_the_built_module(string preset, bool tied, ValueEmbeddingKind values)
    {
        var config = ModelPresets.Get(preset) with { TieEmbeddings = tied, ValueEmbedding = values };
        using var model = new GeneralistModel(config);
        var counts = model.DescribeParameters();
        Assert.Equal(counts.Total, model.CountParameters());
        var blocks = model.named_parameters().Where(p => p.name.StartsWith("blocks.", StringComparison.Ordinal)).Sum(p => p.parameter.numel());
        Assert.Equal(counts.Blocks, blocks);
        Assert.Equal(tied ? 0 : counts.TokenEmbedding, counts.SeparateHead);
    }

    [Fact]
    public void Checkpoint_keys_are_stable()
    {
        using var model = new GeneralistModel(ModelPresets.Get("ladder-0") with { Layers = 1, TieEmbeddings = false });
        var keys = model.state_dict().Keys.ToArray();
        string[] expected =
        [
            "token_embedding.weight",
            "patch_embedding.conv_in.weight", "patch_embedding.conv_in.bias",
            "patch_embedding.norm1.weight", "patch_embedding.norm1.bias",
            "patch_embedding.conv1.weight", "patch_embedding.conv1.bias",
            "patch_embedding.norm2.weight", "patch_embedding.norm2.bias",
            "patch_embedding.conv2.weight", "patch_embedding.conv2.bias",
            "patch_embedding.norm_out.weight", "patch_embedding.norm_out.bias",
            "patch_embedding.proj.weight", "patch_embedding.proj.bias",
            "patch_row_embedding.weight", "patch_col_embedding.weight", "local_position_embedding.weight",
            "value_embedding.proj.weight",
            "blocks.0.attention_norm.weight", "blocks.0.attention_norm.bias", "blocks.0.attention.qkv.weight",
            "blocks.0.attention.proj.weight", "blocks.0.mlp_norm.weight", "blocks.0.mlp_norm.bias",
            "blocks.0.mlp.fc.weight", "blocks.0.mlp.proj.weight",
            "final_norm.weight", "final_norm.bias", "head.weight",
        ];
        Assert.Equal(expected, keys);
        // Gato exact has no value embedding; rotary positions have no parameters at all.
        using var gato = new GeneralistModel(ModelPresets.Get("ladder-0") with
        {
            Layers = 1, TieEmbeddings = false, ValueEmbedding = ValueEmbeddingKind.None, AttentionPositions = AttentionPositionKind.None,
        });
        Assert.Equal(expected.Where(k => !k.StartsWith("value_embedding.", StringComparison.Ordinal)), gato.state_dict().Keys);
    }

    [Fact]
    public void Flops_per_token_follow_6N_plus_12LTd()
    {
        var config = ModelPresets.Get("tiny");
        using var model = new GeneralistModel(config);
        var counts = model.DescribeParameters();
        // N: blocks + final norm + the (tied) head matmul; embeddings excluded.
        Assert.Equal(counts.Blocks + counts.FinalNorm + (long)config.VocabSize * config.ModelDim, counts.FlopParameters);
        Assert.Equal(6.0 * counts.FlopParameters + 12.0 * 5 * 256 * 128, model.EstimateFlopsPerToken(256));
        Assert.Equal(model.EstimateFlopsPerToken(256), model.EstimateFlopsPerToken());
        Assert.Throws<ArgumentException>(() => model.EstimateFlopsPerToken(0));
    }

    [Fact]
    public void The_preset_table_lists_every_preset()
    {
        var table = ParameterCounts.PresetTable();
        foreach (var name in ModelPresets.Names) Assert.Contains($"| {name} |", table);
    }
}
