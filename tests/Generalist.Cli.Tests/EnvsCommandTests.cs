using System.Text.Json;

namespace Generalist.Cli.Tests;

public class EnvsCommandTests
{
    [Fact]
    public void List_json_names_every_environment_with_its_spaces()
    {
        var (code, stdout, stderr) = CliProcess.Run(null, "envs", "list", "--json");
        Assert.True(code == 0, stderr);
        using var doc = JsonDocument.Parse(stdout);
        var names = doc.RootElement.EnumerateArray().Select(e => e.GetProperty("name").GetString()!).ToArray();
        Assert.Equal(["cartpole", "mountaincar", "acrobot", "pendulum", "reacher", "catch", "gridnav", "sokoban"], names);
        var cartpole = doc.RootElement[0];
        Assert.Equal(500, cartpole.GetProperty("max_steps").GetInt32());
        Assert.Equal(4, cartpole.GetProperty("observation").GetArrayLength());
    }

    [Fact]
    public void Rollout_json_reports_mean_std_episodes_and_length_and_is_reproducible()
    {
        var (code, stdout, stderr) = CliProcess.Run(null, "envs", "rollout", "--env", "catch", "--policy", "random", "--episodes", "30", "--seed", "4", "--json");
        Assert.True(code == 0, stderr);
        using var doc = JsonDocument.Parse(stdout);
        var root = doc.RootElement;
        Assert.Equal(30, root.GetProperty("episodes").GetInt32());
        Assert.Equal(7.0, root.GetProperty("mean_length").GetDouble());
        var mean = root.GetProperty("mean_return").GetDouble();
        Assert.InRange(mean, -1.0, 1.0);
        Assert.True(root.GetProperty("std_return").GetDouble() > 0);

        var again = CliProcess.Run(null, "envs", "rollout", "--env", "catch", "--policy", "random", "--episodes", "30", "--seed", "4", "--json");
        using var doc2 = JsonDocument.Parse(again.Stdout);
        Assert.Equal(mean, doc2.RootElement.GetProperty("mean_return").GetDouble());

        var expert = CliProcess.Run(null, "envs", "rollout", "--env", "catch", "--policy", "expert", "--episodes", "10", "--json");
        using var doc3 = JsonDocument.Parse(expert.Stdout);
        Assert.Equal(1.0, doc3.RootElement.GetProperty("mean_return").GetDouble());
    }

    [Theory]
    [InlineData("unknown environment 'pong'", "--env", "pong")]
    [InlineData("--policy must be expert or random", "--env", "cartpole", "--policy", "smart")]
    [InlineData("--episodes must be in [1, 100000]", "--env", "cartpole", "--episodes", "0")]
    [InlineData("--split must be train, held-out or all", "--env", "sokoban", "--split", "test")]
    [InlineData("neither a .sok file nor a directory", "--env", "sokoban", "--levels", "/nonexistent/levels")]
    public void Bad_input_gets_one_line_and_exit_2(string message, params string[] args)
    {
        var (code, stdout, stderr) = CliProcess.Run(null, ["envs", "rollout", .. args]);
        Assert.Equal(2, code);
        Assert.Contains(message, stderr);
        Assert.DoesNotContain("   at ", stderr);
        Assert.Equal("", stdout);
    }

    [Fact]
    public void Sokoban_rolls_out_on_levels_given_with_levels()
    {
        var dir = Directory.CreateTempSubdirectory("cli-sokoban");
        try
        {
            File.WriteAllText(Path.Combine(dir.FullName, "t0001.sok"), "#######\n#@ $ .#\n#######\n");
            File.WriteAllText(Path.Combine(dir.FullName, "t0001.sol"), "r2R");
            var (code, stdout, stderr) = CliProcess.Run(null, "envs", "rollout", "--env", "sokoban", "--levels", dir.FullName, "--episodes", "3", "--json");
            Assert.True(code == 0, stderr);
            using var doc = JsonDocument.Parse(stdout);
            Assert.Equal(10.7, doc.RootElement.GetProperty("mean_return").GetDouble(), 4); // 3 moves, 1 box, solved
            Assert.Equal(3.0, doc.RootElement.GetProperty("mean_length").GetDouble());
        }
        finally
        {
            dir.Delete(true);
        }
    }
}
