using Generalist.Envs;
using Generalist.Tokenizers;
using Generalist.Episodes;
using Generalist.Shards;
using Generalist.TestSupport;

namespace Generalist.Datasets.Tests;

/// <summary>Control shards collected with DART-style action noise (envs/DATA.md, "Action noise").</summary>
public sealed class ActionNoiseDataTests : IDisposable
{
    private readonly TempDir _dir = new();

    public void Dispose() => _dir.Dispose();

    private DataOptions Options(double? noise, int episodes = 4, long seed = 1) => new(_dir.Path, episodes, seed, noise, MinTimestepsPerTask: 0);

    private string[] Shards(string env, string split) =>
        Directory.GetFiles(Path.Combine(_dir.Path, "shards", env), $"*-{split}-*.shard").Select(f => Path.GetFileName(f)).ToArray();

    [Fact]
    public void Perturbed_steps_are_stored_and_their_action_tokens_carry_no_loss()
    {
        var data = TaskCatalog.Load("cartpole", Options(0.3));
        Assert.Equal(["cartpole-train-seed4294967296-n4-expert1-noise0.3.shard"], Shards("cartpole", "train"));
        Assert.Equal(["cartpole-heldout-seed6442450944-n2-expert1-noise0.shard"], Shards("cartpole", "heldout"));
        var builder = new SequenceBuilder(VocabularyLayout.Default, 4096);
        var perturbed = 0;
        for (var i = 0; i < data.Train.Count; i++)
        {
            var episode = data.Train.Get(i);
            perturbed += episode.Timesteps.Count(t => !t.ActionScored);
            var seq = builder.Build(episode);
            for (var k = 0; k < seq.Length; k++)
            {
                var kind = seq.Kinds[k];
                var isAction = kind is TokenKind.ActionDiscrete or TokenKind.ActionContinuous;
                var expected = isAction && episode.Timesteps[seq.TimestepIndices[k]].ActionScored;
                Assert.Equal(expected, seq.Loss(k));
            }
        }
        Assert.InRange(perturbed, 1, int.MaxValue);
        // Held-out episodes are the plain expert's: evaluation demonstrations and held-out loss.
        for (var i = 0; i < data.HeldOut.Count; i++) Assert.All(data.HeldOut.Get(i).Timesteps, t => Assert.True(t.ActionScored));
        Dispose(data);
    }

    [Fact]
    public void Zero_noise_shards_hold_exactly_the_expert_episodes_and_another_setting_is_never_reused()
    {
        var noisy = TaskCatalog.Load("mountaincar", Options(null, episodes: 3));
        Assert.Equal(["mountaincar-train-seed4294967296-n3-expert2-noise0.05.shard"], Shards("mountaincar", "train"));
        Dispose(noisy);
        var clean = TaskCatalog.Load("mountaincar", Options(0, episodes: 3));
        Assert.Equal(["mountaincar-train-seed4294967296-n3-expert2-noise0.05.shard", "mountaincar-train-seed4294967296-n3-expert2-noise0.shard"],
            Shards("mountaincar", "train").Order(StringComparer.Ordinal));
        var expected = Rollouts.Collect(new MountainCarEnv(), new MountainCarExpert(), 3, 1L << 32, "mountaincar");
        for (var i = 0; i < 3; i++)
        {
            var got = clean.Train.Get(i);
            Assert.Equal(Show(expected[i]), Show(got));
            Assert.All(got.Timesteps, t => Assert.True(t.ActionScored));
        }
        Dispose(clean);
    }

    [Fact]
    public void Defaults_are_per_task_and_sokoban_is_never_perturbed()
    {
        Assert.Equal(EnvRegistry.Names.Order(), ControlTrajectories.DefaultActionNoise.Keys.Order());
        Assert.All(ControlTrajectories.DefaultActionNoise.Values, p => Assert.InRange(p, 0, 0.2));
        Assert.Equal(0, ControlTrajectories.DefaultActionNoise["sokoban"]);
        Assert.Equal(0.1, ControlTrajectories.TrainingNoise("cartpole", Options(null)).Probability);
        Assert.Equal(0.3, ControlTrajectories.TrainingNoise("cartpole", Options(0.3)).Probability);
        Assert.True(ControlTrajectories.TrainingNoise("cartpole", Options(0)).IsNone);
        // An explicit probability applies to every closed-loop expert; Sokoban replays solutions.
        Assert.True(ControlTrajectories.TrainingNoise("sokoban", Options(0.3)).IsNone);
        Assert.Equal("sokoban-train-seed0-n5-expert1-noise0.shard", ControlTrajectories.ShardName("sokoban", "train", 0, 5, ActionNoise.None));
        Assert.Equal("reacher-train-seed7-n5-expert1-noise0.2.shard", ControlTrajectories.ShardName("reacher", "train", 7, 5, new ActionNoise(0.2)));
    }

    [Theory]
    [InlineData(1.0)]
    [InlineData(-0.01)]
    [InlineData(double.NaN)]
    public void Out_of_range_noise_is_refused_naming_the_range(double noise)
    {
        var e = Assert.Throws<ArgumentException>(() => TaskCatalog.Load("cartpole", Options(noise)));
        Assert.Contains("action noise must be in [0, 1)", e.Message);
        Assert.False(Directory.Exists(Path.Combine(_dir.Path, "shards")));
    }

    [Fact]
    public void A_shard_of_an_older_expert_version_is_not_reused()
    {
        // A version-1 mountaincar shard (the plain pumping expert) under the old naming sits in the cache.
        var dir = Path.Combine(_dir.Path, "shards", "mountaincar");
        Directory.CreateDirectory(dir);
        var stale = Path.Combine(dir, "mountaincar-train-seed4294967296-n2-expert1-noise0.shard");
        ShardWriter.Write(stale, "mountaincar", TaskFamily.Control, Rollouts.Collect(new MountainCarEnv(), new RandomPolicy(0), 2, 1L << 32, "mountaincar"));
        var data = TaskCatalog.Load("mountaincar", Options(0, episodes: 2));
        var expected = Rollouts.Collect(new MountainCarEnv(), new MountainCarExpert(), 2, 1L << 32, "mountaincar");
        Assert.Equal(Show(expected[1]), Show(data.Train.Get(1)));
        Dispose(data);
    }

    private static string Show(Episode e) => string.Join(";", e.Timesteps.Select(t =>
        $"{string.Join(",", t.Observation.Continuous ?? [])}|{string.Join(",", t.Action!.Discrete ?? [])}|{t.Reward}|{t.ActionScored}"));

    private static void Dispose(TaskData data)
    {
        (data.Train as IDisposable)?.Dispose();
        (data.HeldOut as IDisposable)?.Dispose();
    }
}
