using SkiaSharp;
using Generalist.Episodes;

namespace Generalist.Tokenizers.Tests;

public sealed class EpisodeJsonTests : IDisposable
{
    private readonly DirectoryInfo _dir = Directory.CreateTempSubdirectory("episode-json-");

    public void Dispose() => _dir.Delete(recursive: true);

    private string Write(string json, string name = "episode.json")
    {
        var path = Path.Combine(_dir.FullName, name);
        File.WriteAllText(path, json);
        return path;
    }

    [Fact]
    public void Reads_every_field_with_image_paths_relative_to_the_file()
    {
        Directory.CreateDirectory(Path.Combine(_dir.FullName, "img"));
        using (var bitmap = new SKBitmap(new SKImageInfo(20, 10, SKColorType.Rgba8888, SKAlphaType.Premul)))
        {
            bitmap.Erase(new SKColor(255, 0, 0));
            using var png = bitmap.Encode(SKEncodedImageFormat.Png, 100);
            File.WriteAllBytes(Path.Combine(_dir.FullName, "img", "red.png"), png.ToArray());
        }
        var path = Write("""
            {"task": "demo", "timesteps": [
              {"observation": {"text": "go north", "image": "img/red.png", "discrete": [1, 2], "continuous": [0.5]}, "action": {"discrete": [3]}, "reward": 1.5},
              {"action": {"continuous": [-0.25, 1]}}
            ]}
            """);
        var episode = EpisodeJson.Read(path);
        Assert.Equal("demo", episode.Task);
        var first = episode.Timesteps[0];
        Assert.Equal("go north", first.Observation.Text);
        Assert.Equal((10, 20, 3), (first.Observation.Image!.Height, first.Observation.Image.Width, first.Observation.Image.Channels));
        Assert.Equal((byte)255, first.Observation.Image[5, 5, 0]);
        Assert.Equal(new[] { 1, 2 }, first.Observation.Discrete);
        Assert.Equal(new[] { 3 }, first.Action!.Discrete);
        Assert.Equal(1.5f, first.Reward);
        Assert.Equal(new[] { -0.25f, 1f }, episode.Timesteps[1].Action!.Continuous);

        var report = TokenizeReport.Create(episode, new SequenceBuilder(Fixtures.Vocab, 1024, 8));
        // text, 3x2 patches... 20x10 with P = 8 -> 2 rows x 3 cols = 6 patches
        Assert.Equal(6, report.PatchCount);
        Assert.Equal(report.Length, report.Positions.Count);
        var kinds = report.Positions.Select(p => p.Kind).ToList();
        Assert.Equal(["text", "text"], kinds.Take(2));
        Assert.Equal(6, kinds.Count(k => k == "patch"));
        Assert.Equal(["discrete", "discrete", "continuous", "separator", "action_discrete", "separator", "action_continuous", "action_continuous", "end_of_episode"], kinds.Skip(8));
        Assert.All(report.Positions.Where(p => p.Kind == "patch"), p => Assert.Null(p.Token));
        Assert.Equal(3, report.Positions.Single(p => p.Kind == "action_discrete").Value);
        // -0.25 -> bin floor(0.75 * 512) = 384, decoded as its centre 384.5/512 - 1
        Assert.Equal(-0.2490234f, (float)report.Positions.First(p => p.Kind == "action_continuous").Value!, 6);
        // "go north" is read before an action: an observation, so only the actions carry loss.
        Assert.Equal(report.Positions.Select(p => p.Kind is "action_discrete" or "action_continuous"), report.Positions.Select(p => p.Loss));
    }

    [Theory]
    [InlineData("""{"timesteps": []}""", "timesteps must be an array with at least one timestep")]
    [InlineData("""{"timesteps": [{"observation": {}}]}""", "timesteps[0].action is required")]
    [InlineData("""{"timesteps": [{"action": {"discrete": [1], "continuous": [0.1]}}]}""", "timesteps[0].action must hold exactly one")]
    [InlineData("""{"timesteps": [{"action": {"discrete": [1.5]}}]}""", "timesteps[0].action.discrete[0] must be an integer")]
    [InlineData("""{"timesteps": [{"observation": {"continuous": ["a"]}, "action": {"discrete": [1]}}]}""", "timesteps[0].observation.continuous[0] must be a finite number")]
    [InlineData("""{"timesteps": [{"observation": {"image": "missing.png"}, "action": {"discrete": [1]}}]}""", "timesteps[0].observation.image file not found")]
    [InlineData("""{"task": 3, "timesteps": [{"action": {"discrete": [1]}}]}""", "task must be a non-empty string")]
    [InlineData("""{"timesteps": [{"action": {"discrete": [1]}} """, "not valid JSON")]
    [InlineData("""{"timesteps": [{"action": {"discrete": [1]}, "action_scored": 0}]}""", "timesteps[0].action_scored must be true or false")]
    public void Bad_input_names_the_field(string json, string expected)
    {
        var path = Write(json);
        var e = Assert.Throws<ArgumentException>(() => EpisodeJson.Read(path));
        Assert.Contains(expected, e.Message);
        Assert.DoesNotContain('\n', e.Message);
    }

    [Fact]
    public void Action_scored_false_turns_the_action_loss_off_in_the_report()
    {
        var episode = EpisodeJson.Read(Write("""
            {"timesteps": [
              {"observation": {"continuous": [0.5]}, "action": {"discrete": [1]}, "action_scored": false},
              {"observation": {"continuous": [0.5]}, "action": {"discrete": [2]}, "action_scored": true},
              {"observation": {"continuous": [0.5]}, "action": {"discrete": [0]}}
            ]}
            """));
        Assert.Equal(new[] { false, true, true }, episode.Timesteps.Select(t => t.ActionScored));
        var report = TokenizeReport.Create(episode, new SequenceBuilder(Fixtures.Vocab, 64));
        var actions = report.Positions.Where(p => p.Kind == "action_discrete").ToList();
        Assert.Equal(new[] { false, true, true }, actions.Select(p => p.Loss));
        Assert.Equal(new[] { 0, 1, 2 }, actions.Select(p => p.Timestep));
    }

    [Fact]
    public void Out_of_range_values_are_named_by_the_builder()
    {
        var episode = EpisodeJson.Read(Write("""{"timesteps": [{"action": {"discrete": [1]}}, {"observation": {"discrete": [5, 4096]}, "action": {"discrete": [1]}}]}"""));
        var e = Assert.Throws<ArgumentException>(() => TokenizeReport.Create(episode, new SequenceBuilder(Fixtures.Vocab, 64)));
        Assert.Equal("timesteps[1].observation.discrete[1] must be in [0, 1024) (got 4096)", e.Message);
    }
}
