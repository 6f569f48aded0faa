using System.Diagnostics;
using System.Text.Json;
using System.Text.Json.Nodes;
using System.Text.RegularExpressions;
using Generalist.RunFormat;

namespace Generalist.Cli.Tests;

/// <summary>The command line a newcomer meets: commented configs, snake_case JSON, pipe-safe tables, the installed tool.</summary>
public class NewcomerTests
{
    private static readonly Regex SnakeCase = new("^[a-z][a-z0-9_]*$");

    [Fact]
    public void Config_show_is_a_valid_config_documenting_every_field()
    {
        var (code, stdout, stderr) = CliProcess.Run(null, "config", "show", "--preset", "tiny", "--tasks", "cartpole:2,text");
        Assert.True(code == 0, stderr);
        var run = RunConfig.Parse(stdout); // comments are skipped by the reader
        Assert.Equal(2.0, run.Tasks[0].Weight);
        // Every field the config serializes is in the documented list, and the reverse.
        var documented = RunConfigFields.Docs.Select(d => d.Path).ToHashSet();
        foreach (var path in Leaves(JsonNode.Parse(new RunConfig { InitFrom = "x", ActionNoise = 0.1 }.ToJson())!.AsObject(), ""))
            Assert.Contains(path, documented);
        foreach (var field in RunConfigFields.Docs.Where(d => !d.Path.Contains('[')))
            Assert.Contains($"\"{field.Path.Split('.')[^1]}\":", stdout);
        // The printed range is the enforced one: steps 0 is refused with the words config show printed.
        var steps = RunConfigFields.Docs.Single(d => d.Path == "steps").Requirement;
        Assert.Contains($"Must be {steps}.", stdout);
        var e = Assert.Throws<ConfigException>(() => RunConfig.Parse(stdout.Replace("\"steps\": 200", "\"steps\": 0")));
        Assert.Contains($"steps: must be {steps} (got 0)", e.Message);
    }

    [Fact]
    public void Config_check_accepts_the_shown_config_and_names_a_bad_field()
    {
        var dir = Directory.CreateTempSubdirectory("gen-config-").FullName;
        try
        {
            var shown = CliProcess.Run(null, "config", "show").Stdout;
            File.WriteAllText(Path.Combine(dir, "run.json"), shown.Replace("\"steps\": 200", "\"steps\": 3"));
            var ok = CliProcess.Run(null, "config", "check", Path.Combine(dir, "run.json"), "--json");
            Assert.True(ok.ExitCode == 0, ok.Stderr);
            AssertSnakeCase(JsonNode.Parse(ok.Stdout));
            File.WriteAllText(Path.Combine(dir, "bad.json"), shown.Replace("\"learning_rate\": 0.001", "\"learning_rate\": 5"));
            var bad = CliProcess.Run(null, "config", "check", Path.Combine(dir, "bad.json"));
            Assert.Equal(2, bad.ExitCode);
            Assert.Contains("optimizer.learning_rate: must be in (0, 1] (got 5)", bad.Stderr);
            var study = CliProcess.Run(null, "config", "show", "--study").Stdout;
            File.WriteAllText(Path.Combine(dir, "study.json"), study);
            var studyCheck = CliProcess.Run(null, "config", "check", Path.Combine(dir, "study.json"));
            Assert.True(studyCheck.ExitCode == 0, studyCheck.Stderr);
            Assert.Contains("valid study config", studyCheck.Stdout);
        }
        finally
        {
            Directory.Delete(dir, true);
        }
    }

    [Theory]
    [InlineData("train --help", "config show")]
    [InlineData("train --help", "ladder-0")]
    [InlineData("train --help", "icl-regression")]
    [InlineData("study scaling --help", "config show --study")]
    public void Help_is_complete_without_the_source_tree(string command, string expected)
    {
        var (code, stdout, _) = CliProcess.Run(null, command.Split(' '));
        Assert.Equal(0, code);
        Assert.Contains(expected, stdout);
        Assert.DoesNotContain("src/", stdout);
    }

    [Theory]
    [InlineData("envs list --json")]
    [InlineData("envs rollout --env cartpole --episodes 2 --json")]
    [InlineData("models --json")]
    [InlineData("doctor --json")]
    public void Json_keys_are_snake_case(string command)
    {
        var (code, stdout, stderr) = CliProcess.Run(null, command.Split(' '));
        Assert.True(code == 0, stderr);
        AssertSnakeCase(JsonNode.Parse(stdout));
        Assert.DoesNotContain("\"NaN\"", stdout);
    }

    [Theory]
    [InlineData("envs list")]
    [InlineData("models")]
    [InlineData("doctor")]
    public void Piped_tables_are_tab_separated_with_whole_cells(string command)
    {
        var (code, stdout, stderr) = CliProcess.Run(null, command.Split(' '));
        Assert.True(code == 0, stderr);
        var lines = stdout.Split('\n', StringSplitOptions.RemoveEmptyEntries).TakeWhile(l => l.Contains('\t')).ToList();
        Assert.True(lines.Count >= 2, stdout);
        var columns = lines[0].Split('\t').Length;
        Assert.All(lines, l => Assert.Equal(columns, l.Split('\t').Length));
        Assert.DoesNotContain("│", stdout);
        if (command == "envs list") Assert.Contains("pole_angular_velocity continuous", stdout);
    }

    /// <summary>Dictionary keys holding data (task or metric names) are skipped; every field name is snake_case.</summary>
    internal static void AssertSnakeCase(JsonNode? node, string path = "$")
    {
        switch (node)
        {
            case JsonObject o:
                foreach (var (key, value) in o)
                {
                    if (path.EndsWith("metrics") || path.EndsWith("task_loss")) continue;
                    Assert.True(SnakeCase.IsMatch(key), $"{path}.{key} is not snake_case");
                    AssertSnakeCase(value, $"{path}.{key}");
                }
                break;
            case JsonArray a:
                foreach (var e in a) AssertSnakeCase(e, path + "[]");
                break;
        }
    }

    private static IEnumerable<string> Leaves(JsonObject o, string prefix)
    {
        foreach (var (key, value) in o)
        {
            if (value is JsonObject child)
            {
                yield return prefix + key;
                foreach (var l in Leaves(child, prefix + key + ".")) yield return l;
            }
            else yield return prefix + key;
        }
    }
}
