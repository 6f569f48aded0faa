using System.Runtime.CompilerServices;
using Generalist.RunFormat;

namespace Generalist.Training.Tests;

/// <summary>The shipped recipes are real run configs: they parse and validate as `generalist train --config` would.</summary>
public class RecipeTests
{
    [Fact]
    public void Every_shipped_recipe_is_a_valid_run_config()
    {
        var recipes = Directory.GetFiles(Path.Combine(RepositoryRoot(), "recipes"), "*.json");
        Assert.NotEmpty(recipes);
        foreach (var path in recipes)
        {
            var config = RunConfig.Load(path);
            Assert.Equal(Path.GetFileNameWithoutExtension(path), config.Name);
            config.ResolveModel(); // the preset and model options build a model config
        }
    }

    [Fact]
    public void The_control_recipe_trains_every_control_task_with_text_mnist_and_regression()
    {
        var config = RunConfig.Load(Path.Combine(RepositoryRoot(), "recipes", "control-cpu.json"));
        string[] expected = ["cartpole", "mountaincar", "acrobot", "pendulum", "reacher", "catch", "gridnav", "sokoban", "text", "mnist", "icl-regression"];
        Assert.Equal(expected.Order(), config.Tasks.Select(t => t.Name).Order());
    }

    private static string RepositoryRoot([CallerFilePath] string source = "")
    {
        foreach (var start in new[] { AppContext.BaseDirectory, Path.GetDirectoryName(source)! })
        {
            var dir = new DirectoryInfo(start);
            while (dir is not null && !File.Exists(Path.Combine(dir.FullName, "Generalist.sln"))) dir = dir.Parent;
            if (dir is not null) return dir.FullName;
        }
        throw new InvalidOperationException("Generalist.sln not found above the test directory or the test sources");
    }
}
