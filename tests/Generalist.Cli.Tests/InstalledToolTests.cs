using System.Diagnostics;
using System.Text.Json.Nodes;

namespace Generalist.Cli.Tests;

/// <summary>
/// The newcomer's path through the installed tool: pack, install into a temporary tool path, then
/// from an empty directory `doctor`, `config show > run.json`, edit one field, train, eval and a
/// sokoban rollout, without the source tree. Slow: packing builds the whole CLI again.
/// </summary>
public class InstalledToolTests
{
    [Fact]
    [Trait("Category", "Slow")]
    public void Installed_tool_runs_the_newcomer_path_from_any_directory()
    {
        var root = Directory.CreateTempSubdirectory("gen-tool-").FullName;
        try
        {
            var project = Path.Combine(FindRepo(), "src", "Generalist.Cli");
            Run("dotnet", root, "pack", project, "-c", "Release", "-o", Path.Combine(root, "pkg"), "--artifacts-path", Path.Combine(root, "art"));
            Run("dotnet", root, "tool", "install", "--tool-path", Path.Combine(root, "tools"), "--add-source", Path.Combine(root, "pkg"), "Generalist.Cli");
            var tool = Path.Combine(root, "tools", "generalist");
            var work = Directory.CreateDirectory(Path.Combine(root, "work")).FullName;
            Assert.Contains("libtorch version", Run(tool, work, "doctor"));
            var config = Run(tool, work, "config", "show", "--tasks", "icl-regression");
            File.WriteAllText(Path.Combine(work, "run.json"), config.Replace("\"steps\": 200", "\"steps\": 2").Replace("\"batch_size\": 8", "\"batch_size\": 2"));
            var trained = JsonNode.Parse(Run(tool, work, "train", "--config", "run.json", "--name", "first", "--json"))!;
            Assert.Equal("completed", (string?)trained["outcome"]);
            Assert.True(Directory.Exists(Path.Combine(work, "checkpoints", "first")));
            var eval = JsonNode.Parse(Run(tool, work, "eval", "--checkpoint", "checkpoints/first", "--suite", "icl", "--json"))!;
            NewcomerTests.AssertSnakeCase(eval);
            var rollout = JsonNode.Parse(Run(tool, work, "envs", "rollout", "--env", "sokoban", "--episodes", "2", "--json"))!;
            Assert.Equal(2, (int)rollout["episodes"]!);
        }
        finally
        {
            Directory.Delete(root, true);
        }
    }

    /// <summary>The repository of this source file (the build output may live outside it, --artifacts-path).</summary>
    private static string FindRepo([System.Runtime.CompilerServices.CallerFilePath] string source = "") =>
        Path.GetFullPath(Path.Combine(Path.GetDirectoryName(source)!, "..", ".."));

    private static string Run(string file, string directory, params string[] args)
    {
        var psi = new ProcessStartInfo(file, args) { WorkingDirectory = directory, RedirectStandardOutput = true, RedirectStandardError = true };
        psi.Environment["NO_COLOR"] = "1";
        using var p = Process.Start(psi)!;
        var stdout = p.StandardOutput.ReadToEndAsync();
        var stderr = p.StandardError.ReadToEndAsync();
        if (!p.WaitForExit(900_000))
        {
            p.Kill(true);
            throw new TimeoutException($"{file} {string.Join(' ', args)} did not finish in 900 s");
        }
        Assert.True(p.ExitCode == 0, $"{file} {string.Join(' ', args)}: exit {p.ExitCode}\n{stderr.Result}");
        return stdout.Result;
    }
}
