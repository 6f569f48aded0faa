using System.Text.Json;

namespace Generalist.Cli.Tests;

public class ModelsCommandTests
{
    [Fact]
    public void Models_lists_every_preset_with_its_parameter_counts()
    {
        var (code, stdout, stderr) = CliProcess.Run(null, "models", "--json");
        Assert.True(code == 0, stderr);
        using var doc = JsonDocument.Parse(stdout);
        var presets = doc.RootElement.EnumerateArray().ToDictionary(p => p.GetProperty("name").GetString()!);
        Assert.Contains("tiny", presets.Keys);
        Assert.Contains("ladder-7", presets.Keys);
        var large = presets["large"];
        Assert.Equal(12, large.GetProperty("layers").GetInt32());
        Assert.Equal(1536, large.GetProperty("model_dim").GetInt32());
        // The whole shape, for builders outside .NET (bench/peer/speed.py builds the peer from it).
        var config = presets["base"].GetProperty("config");
        Assert.Equal(24, config.GetProperty("heads").GetInt32());
        Assert.Equal(presets["base"].GetProperty("context_length").GetInt32(), config.GetProperty("context_length").GetInt32());
        Assert.Equal("rope", config.GetProperty("attention_positions").GetString());
        var tiny = presets["tiny"].GetProperty("parameters");
        Assert.Equal(tiny.GetProperty("total").GetInt64(),
            tiny.GetProperty("token_embedding").GetInt64() + tiny.GetProperty("value_embedding").GetInt64() + tiny.GetProperty("position_embeddings").GetInt64()
            + tiny.GetProperty("patch_embedding").GetInt64() + tiny.GetProperty("blocks").GetInt64()
            + tiny.GetProperty("final_norm").GetInt64() + tiny.GetProperty("separate_head").GetInt64());
    }

    [Fact]
    public void An_unknown_preset_is_one_line_naming_the_valid_ones_and_exit_2()
    {
        var (code, _, stderr) = CliProcess.Run(null, "models", "--preset", "huge");
        Assert.Equal(2, code);
        Assert.Single(stderr.Trim().Split('\n'));
        Assert.Contains("valid presets: tiny, small, base, large", stderr);
    }
}
