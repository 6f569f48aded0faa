
using Generalist.RunFormat;

namespace Generalist.Studies.Tests;

public class StudyConfigTests
{
    [Theory]
    [InlineData("""{"name":"x"}""", "base: required")]
    [InlineData("""{"base":{"steps":0}}""", "base.steps: must be in [1, 10000000] (got 0)")]
    [InlineData("""{"base":{},"evaluation":{"suite":"nope"}}""", "evaluation.suite: must be one of control, vision-language, language, icl, default, all (got 'nope')")]
    [InlineData("""{"base":{},"scaling":{"presets":["a","b"]}}""", "scaling.presets: must list at least 4 model presets (got 2)")]
    [InlineData("""{"base":{},"transfer":{"families":{"control":["pong"]}}}""", "transfer.families.control: task 'pong' is not in base.tasks")]
    [InlineData("""{"base":{},"bogus":1}""", "unknown field 'bogus'")]
    [InlineData("""{"base":{"steps":"5"}}""", "base.steps: must be a whole number in [1, 10000000]")]
    [InlineData("""{"base":{},"bootstrap":{"samples":5}}""", "bootstrap.samples: must be in [10, 100000] (got 5)")]
    public void BadFieldsAreNamedWithTheirRange(string json, string expected)
    {
        var e = Assert.Throws<ConfigException>(() => StudyConfig.Parse(json, "s.json"));
        Assert.Contains(expected, e.Message);
        Assert.StartsWith("s.json", e.Message);
    }

    [Fact]
    public void DefaultsAreValidAndTheBaseRunIsTheTrainersOwnConfig()
    {
        var c = StudyConfig.Parse("""{"name":"ok","base":{"preset":"ladder-1","steps":30}}""");
        Assert.Equal("ladder-1", c.BaseRun.Preset);
        Assert.Equal(30, c.BaseRun.Steps);
        Assert.Equal(5, c.Scaling.Presets.Count);
    }

    [Theory]
    [InlineData("""{"base":{},"scaling":null}""", "scaling: must be given as a value, not null")]
    [InlineData("""{"base":{},"evaluation":null}""", "evaluation: must be given as a value, not null")]
    [InlineData("""{"base":{},"transfer":null}""", "transfer: must be given as a value, not null")]
    [InlineData("""{"base":{},"bootstrap":null}""", "bootstrap: must be given as a value, not null")]
    [InlineData("""{"base":{},"transfer":{"families":null}}""", "transfer.families: must be given as a value, not null")]
    [InlineData("""{"base":{},"scaling":{"presets":["ladder-0",null,"ladder-2","ladder-3"]}}""", "scaling.presets: every entry must be a preset name")]
    [InlineData("""{"base":{},"evaluation":{"seed":-5}}""", "evaluation.seed: must be >= 0 (got -5)")]
    public void NullSectionsAndBadSeedsAreRefusedUpFront(string json, string expected)
    {
        var e = Assert.Throws<ConfigException>(() => StudyConfig.Parse(json, "s.json"));
        Assert.Contains(expected, e.Message);
        Assert.StartsWith("s.json", e.Message);
    }

    [Fact]
    public void TransferNeedsEveryTaskInAFamily()
    {
        var c = StudyConfig.Parse("""{"base":{"tasks":[{"name":"cartpole"},{"name":"text"}]},"transfer":{"families":{"control":["cartpole"]}}}""");
        var e = Assert.Throws<ConfigException>(() => c.ValidateForTransfer("s.json"));
        Assert.Contains("tasks text are in no family", e.Message);
    }
}
