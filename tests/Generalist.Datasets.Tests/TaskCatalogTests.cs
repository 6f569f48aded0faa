using Generalist.Datasets.Sets;
using Generalist.Episodes;
using Generalist.TestSupport;

namespace Generalist.Datasets.Tests;

public sealed class TaskCatalogTests : IDisposable
{
    private readonly TempDir _dir = new();

    private DataOptions Options(int episodes = 3, long seed = 1) => new(_dir.Path, episodes, seed, MinTimestepsPerTask: 0);

    [Fact]
    public void Names_are_the_fourteen_tasks_and_each_is_described()
    {
        Assert.Equal(
            ["cartpole", "mountaincar", "acrobot", "pendulum", "reacher", "catch", "gridnav", "sokoban",
             "text", "mnist", "fashion-mnist", "emoji", "icl-regression", "movielens"],
            TaskCatalog.Names);
        foreach (var name in TaskCatalog.Names)
        {
            var d = TaskCatalog.Describe(name);
            Assert.Equal(name, d.Name);
            Assert.False(string.IsNullOrWhiteSpace(d.Description));
            Assert.False(string.IsNullOrWhiteSpace(d.Source));
        }
        Assert.Equal(TaskFamily.VisionLanguage, TaskCatalog.Describe("emoji").Family);
    }

    [Fact]
    public void An_unknown_task_lists_the_valid_names()
    {
        var e = Assert.Throws<ArgumentException>(() => TaskCatalog.Load("atari", Options()));
        Assert.Contains("unknown task 'atari'", e.Message);
        Assert.Contains("cartpole", e.Message);
        Assert.Contains("movielens", e.Message);
        Assert.Throws<ArgumentException>(() => TaskCatalog.Describe("Cartpole"));
    }

    [Fact]
    public void Options_out_of_range_are_refused_with_the_range()
    {
        var e = Assert.Throws<ArgumentException>(() => TaskCatalog.Load("cartpole", Options(episodes: 0)));
        Assert.Contains("[1, 1000000]", e.Message);
    }

    [Fact]
    public void Short_episode_tasks_collect_past_the_episode_count_until_the_timestep_floor()
    {
        // catch episodes are 7 steps: 3 episodes hold ~21 timesteps, so a floor of 50 needs more, and
        // collection stops at the first episode that reaches it.
        var floor = new DataOptions(_dir.Path, 3, 1, MinTimestepsPerTask: 50);
        var data = TaskCatalog.Load("catch", floor);
        var lengths = Enumerable.Range(0, data.Train.Count).Select(i => data.Train.Get(i).Timesteps.Count).ToList();
        Assert.True(data.Train.Count > 3);
        Assert.True(lengths.Sum() >= 50);
        Assert.True(lengths.Sum() - lengths[^1] < 50);
        Assert.Equal(floor.HeldOutEpisodes, data.HeldOut.Count); // held-out episodes follow the episode count only
        // The first episodes are the plain episode count's: the floor only appends seeds.
        var plain = TaskCatalog.Load("catch", Options());
        Assert.Equal(3, plain.Train.Count);
        for (var i = 0; i < 3; i++)
            Assert.Equal(plain.Train.Get(i).Timesteps.Select(t => t.Action?.Discrete?[0] ?? -1), data.Train.Get(i).Timesteps.Select(t => t.Action?.Discrete?[0] ?? -1));
        // A long-episode task already above the floor is unchanged (cartpole's expert runs to 500 steps).
        Assert.Equal(3, TaskCatalog.Load("cartpole", floor).Train.Count);
        // Reloading reuses the shard and gives the same episodes.
        var again = TaskCatalog.Load("catch", floor);
        Assert.Equal(data.Train.Get(7).Timesteps.Select(t => t.Action?.Discrete?[0] ?? -1), again.Train.Get(7).Timesteps.Select(t => t.Action?.Discrete?[0] ?? -1));
        Assert.Throws<ArgumentException>(() => TaskCatalog.Load("catch", floor with { MinTimestepsPerTask = -1 }));
    }

    [Fact]
    public void Regression_loads_without_any_package_and_follows_the_seed()
    {
        var a = TaskCatalog.Load("icl-regression", Options(seed: 5));
        var b = TaskCatalog.Load("icl-regression", Options(seed: 5));
        Assert.Equal(TaskFamily.InContext, a.Family);
        Assert.Null(a.EnvName);
        Assert.Equal(a.Train.Get(3).Timesteps[7].Action!.Continuous!, b.Train.Get(3).Timesteps[7].Action!.Continuous!);
        Assert.Equal(IclRegressionSource.HeldOutCount, a.HeldOut.Count);
    }

    [Fact]
    public void Control_trajectories_are_written_as_shards_read_back_and_deterministic()
    {
        var data = TaskCatalog.Load("cartpole", Options());
        Assert.Equal(("cartpole", TaskFamily.Control, "cartpole"), (data.Name, data.Family, data.EnvName));
        Assert.Equal(3, data.Train.Count);
        Assert.Equal(2, data.HeldOut.Count);
        var shards = Directory.GetFiles(Path.Combine(_dir.Path, "shards", "cartpole"), "*.shard");
        Assert.Equal(2, shards.Length);
        var episode = data.Train.Get(0);
        Assert.All(episode.Timesteps, t => Assert.NotNull(t.Action));
        Assert.True(episode.Return > 100, $"the cartpole expert should balance for long, got return {episode.Return}");

        // Same seed in a fresh cache: the same trajectories.
        using var other = new TempDir();
        var again = TaskCatalog.Load("cartpole", new DataOptions(other.Path, 3, 1, MinTimestepsPerTask: 0));
        Assert.Equal(Observations(data.Train.Get(2)), Observations(again.Train.Get(2)));
        // Held-out episodes come from other seeds.
        Assert.NotEqual(Observations(data.Train.Get(0)), Observations(data.HeldOut.Get(0)));
    }

    [Fact]
    public void Existing_shards_are_reused_and_a_corrupted_one_is_rebuilt()
    {
        var first = TaskCatalog.Load("catch", Options());
        var train = Directory.GetFiles(Path.Combine(_dir.Path, "shards", "catch"), "*-train-*.shard").Single();
        var written = File.GetLastWriteTimeUtc(train);
        var expected = Observations(first.Train.Get(1));
        (first.Train as IDisposable)?.Dispose();
        (first.HeldOut as IDisposable)?.Dispose();

        TaskCatalog.Load("catch", Options());
        Assert.Equal(written, File.GetLastWriteTimeUtc(train));

        var bytes = File.ReadAllBytes(train);
        bytes[bytes.Length / 2] ^= 0x5A;
        File.WriteAllBytes(train, bytes);
        var messages = new List<string>();
        var rebuilt = TaskCatalog.Load("catch", Options(), new SyncProgress(p => messages.Add(p.Message)));
        Assert.Contains(messages, m => m.Contains("rebuilding"));
        Assert.Equal(expected, Observations(rebuilt.Train.Get(1)));
    }

    [Theory]
    [InlineData("mountaincar")]
    [InlineData("acrobot")]
    [InlineData("pendulum")]
    [InlineData("reacher")]
    [InlineData("gridnav")]
    public void Every_environment_yields_expert_episodes(string env)
    {
        var data = TaskCatalog.Load(env, Options(episodes: 2));
        Assert.Equal(2, data.Train.Count);
        var episode = data.Train.Get(1);
        Assert.Equal(env, episode.Task);
        Assert.NotEmpty(episode.Timesteps);
        Assert.All(episode.Timesteps, t => Assert.NotNull(t.Action));
    }

    [Fact]
    public void Sokoban_levels_without_a_short_enough_solution_are_dropped_and_the_split_is_by_level()
    {
        var levels = Enumerable.Range(0, 40).Select(i => Generalist.Envs.SokobanLevel.Parse("#####\n#@$.#\n#####", $"fixture{i:D3}") with
        {
            Title = $"fixture{i:D3}",
            Solution = Generalist.Envs.SokobanSolution.Parse(i == 0 ? new string('r', 5) + "R" : "R"),
        }).ToList();
        var (train, heldOut) = SokobanLevelSet.Split(levels, maxSteps: 3);
        Assert.Equal(39, train.Count + heldOut.Count);
        Assert.NotEmpty(heldOut);
        Assert.Empty(train.Select(l => l.Title).Intersect(heldOut.Select(l => l.Title)));
        Assert.DoesNotContain(train.Concat(heldOut), l => l.Title == "fixture000");
    }

    private static string Observations(Episode e) =>
        string.Join(";", e.Timesteps.Select(t => string.Join(",", t.Observation.Continuous ?? []) + "|" + string.Join(",", t.Observation.Image?.Pixels.Take(64) ?? []) + "|" + string.Join(",", t.Action!.Discrete ?? [])));

    private sealed class SyncProgress(Action<DataProgress> report) : IProgress<DataProgress>
    {
        public void Report(DataProgress value) => report(value);
    }

    public void Dispose() => _dir.Dispose();
}
