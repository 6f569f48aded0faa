using System.Text.Json;

namespace Generalist.Cli.Tests;

public class DataCommandTests
{
    [Fact]
    public void Prepare_builds_the_named_tasks_into_the_cache_and_reports_json()
    {
        var cache = Directory.CreateTempSubdirectory("generalist-data");
        try
        {
            var env = new Dictionary<string, string?> { ["GENERALIST_DATA"] = cache.FullName };
            var (code, stdout, stderr) = CliProcess.Run(env, "data", "prepare", "--tasks", "icl-regression,gridnav", "--episodes", "3", "--min-timesteps", "0", "--json");
            Assert.True(code == 0, stderr);
            using var doc = JsonDocument.Parse(stdout);
            Assert.Equal(cache.FullName, doc.RootElement.GetProperty("cache_directory").GetString());
            var tasks = doc.RootElement.GetProperty("tasks").EnumerateArray().ToList();
            Assert.Equal(["icl-regression", "gridnav"], tasks.Select(t => t.GetProperty("name").GetString()));
            Assert.Equal(3, tasks[1].GetProperty("train_episodes").GetInt32());
            Assert.Equal("Control", tasks[1].GetProperty("family").GetString());
            Assert.Equal(2, Directory.GetFiles(Path.Combine(cache.FullName, "shards", "gridnav"), "*.shard").Length);
            Assert.Contains("[gridnav]", stderr); // plain progress lines go to stderr, stdout stays JSON
            // With a timestep floor, gridnav's ~5-step episodes continue past --episodes until they hold it.
            var (floorCode, floorOut, floorErr) = CliProcess.Run(env, "data", "prepare", "--tasks", "gridnav", "--episodes", "3", "--min-timesteps", "40", "--json");
            Assert.True(floorCode == 0, floorErr);
            using var floorDoc = JsonDocument.Parse(floorOut);
            Assert.True(floorDoc.RootElement.GetProperty("tasks")[0].GetProperty("train_episodes").GetInt32() > 3);
        }
        finally
        {
            cache.Delete(true);
        }
    }

    [Theory]
    [InlineData("--tasks", "cartpole,atari", "unknown task 'atari'")]
    [InlineData("--episodes", "0", "--episodes must be in [1, 1000000]")]
    public void Bad_input_is_one_line_and_exit_code_2(string option, string value, string message)
    {
        var (code, _, stderr) = CliProcess.Run(null, "data", "prepare", option, value);
        Assert.Equal(2, code);
        Assert.Contains(message, stderr);
        Assert.Single(stderr.Trim().Split('\n'));
    }
}
