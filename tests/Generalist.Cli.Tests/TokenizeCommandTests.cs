using System.Text.Json;

namespace Generalist.Cli.Tests;

public sealed class TokenizeCommandTests : IDisposable
{
    private readonly DirectoryInfo _dir = Directory.CreateTempSubdirectory("tokenize-");

    public void Dispose() => _dir.Delete(recursive: true);

    private string Write(string json)
    {
        var path = Path.Combine(_dir.FullName, "episode.json");
        File.WriteAllText(path, json);
        return path;
    }

    [Fact]
    public void Json_output_lists_offsets_and_every_position()
    {
        var path = Write("""{"task": "cartpole", "timesteps": [{"observation": {"text": "left", "continuous": [0.0, 1.0]}, "action": {"discrete": [1]}}]}""");
        var (code, stdout, stderr) = CliProcess.Run(null, "tokenize", "--input", path, "--json");
        Assert.True(code == 0, stderr);
        using var doc = JsonDocument.Parse(stdout);
        var root = doc.RootElement;
        Assert.Equal(8192, root.GetProperty("text_vocab_size").GetInt32());
        Assert.Equal(8192, root.GetProperty("continuous_offset").GetInt32());
        Assert.Equal(9216, root.GetProperty("discrete_offset").GetInt32());
        Assert.Equal(10240, root.GetProperty("separator").GetInt32());
        var positions = root.GetProperty("positions").EnumerateArray().ToList();
        var kinds = positions.Select(p => p.GetProperty("kind").GetString()).ToList();
        Assert.Equal("continuous", kinds[^5]);
        Assert.Equal(["continuous", "separator", "action_discrete", "end_of_episode"], kinds.TakeLast(4));
        var sep = positions.Single(p => p.GetProperty("kind").GetString() == "separator");
        Assert.Equal(10240, sep.GetProperty("token").GetInt32());
        Assert.False(sep.GetProperty("loss").GetBoolean());
        var action = positions.Single(p => p.GetProperty("kind").GetString() == "action_discrete");
        Assert.Equal(9217, action.GetProperty("token").GetInt32());
        Assert.True(action.GetProperty("loss").GetBoolean());
        Assert.Equal(1, action.GetProperty("value").GetInt32());
        Assert.Equal(8192 + 744, positions[^4].GetProperty("token").GetInt32()); // x = 1 -> bin 744
        Assert.Equal("text", kinds[0]);
        Assert.False(positions[0].GetProperty("loss").GetBoolean()); // text read before an action is an observation
    }

    [Fact]
    public void Table_output_is_readable()
    {
        var path = Write("""{"timesteps": [{"observation": {"discrete": [4]}, "action": {"continuous": [0.5]}}]}""");
        var (code, stdout, stderr) = CliProcess.Run(null, "tokenize", "--input", path);
        Assert.True(code == 0, stderr);
        Assert.Contains("action_continuous", stdout);
        Assert.Contains("separator", stdout);
    }

    [Fact]
    public void Bad_input_is_one_line_naming_the_field_with_exit_code_2()
    {
        var path = Write("""{"timesteps": [{"observation": {"discrete": [1, 5000]}, "action": {"discrete": [1]}}]}""");
        var (code, stdout, stderr) = CliProcess.Run(null, "tokenize", "--input", path, "--json");
        Assert.Equal(2, code);
        Assert.Equal("", stdout);
        var line = Assert.Single(stderr.Trim().Split('\n'));
        Assert.Contains("timesteps[0].observation.discrete[1] must be in [0, 1024) (got 5000)", line);

        (code, _, stderr) = CliProcess.Run(null, "tokenize", "--input", Path.Combine(_dir.FullName, "missing.json"));
        Assert.Equal(2, code);
        Assert.Contains("missing.json", stderr);
        (code, _, stderr) = CliProcess.Run(null, "tokenize", "--input", path, "--patch-size", "0");
        Assert.Equal(2, code);
        Assert.Contains("--patch-size must be in [1, 256]", stderr);
    }
}
