using Generalist.RunFormat;

namespace Generalist.Training.Tests;

/// <summary>The one task-list syntax and the one overlay every way into a run uses.</summary>
public sealed class TaskWeightsTests
{
    [Fact]
    public void Parses_names_weights_and_repeated_lists_alike()
    {
        Assert.Equal([new TaskWeight("cartpole", 2), new TaskWeight("text", 1)], TaskWeights.Parse(["cartpole:2,text"]));
        Assert.Equal(TaskWeights.Parse(["cartpole:2,text"]), TaskWeights.Parse(["cartpole:2", "text"]));
        Assert.Equal(["cartpole:2", "text"], TaskWeights.Format(TaskWeights.Parse(["cartpole:2,text"])));
    }

    [Theory]
    [InlineData("nope", "tasks[0].name")]
    [InlineData("cartpole,text:0", "tasks[1].weight")]
    [InlineData("cartpole:x", "tasks[0].weight")]
    [InlineData("cartpole,cartpole", "tasks[1].name")]
    [InlineData(" , ", "tasks")]
    public void Refuses_naming_the_item(string text, string field) =>
        Assert.Equal(field, Assert.Throws<ConfigException>(() => TaskWeights.Parse([text])).Field);

    [Fact]
    public void Syntax_only_leaves_values_to_validation()
    {
        Assert.Equal([new TaskWeight("nope", 0)], TaskWeights.Parse(["nope:0"], checkValues: false));
        Assert.Throws<ConfigException>(() => TaskWeights.Parse(["cartpole:x"], checkValues: false));
        Assert.Throws<ConfigException>(() => TaskWeights.Parse(["cartpole:2"], weights: false));
    }

    [Fact]
    public void Overrides_replace_only_what_they_name()
    {
        var base_ = new RunConfig { Steps = 7, Seed = 3, Preset = "tiny" };
        var run = new RunConfigOverrides { Steps = 9, Tasks = [new TaskWeight("text")] }.ApplyTo(base_);
        Assert.Equal(9, run.Steps);
        Assert.Equal(3, run.Seed);
        Assert.Equal("tiny", run.Preset);
        Assert.Equal([new TaskWeight("text")], run.Tasks);
        Assert.Equal(base_, new RunConfigOverrides().ApplyTo(base_));
    }
}
