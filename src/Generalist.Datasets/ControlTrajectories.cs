using Generalist.Datasets.Cache;
using Generalist.Datasets.Sets;
using Generalist.Envs;
using Generalist.Episodes;
using Generalist.Shards;

namespace Generalist.Datasets;

/// <summary>
/// Expert trajectories of the control environments, generated once with the environment's scripted
/// expert and written as shards:
/// `shards/{env}/{env}-{split}-seed{S}-n{N}-expert{V}-noise{P}.shard` under the cache, where V is the
/// expert's <see cref="IPolicy.Version"/> and P the action-noise probability the episodes were
/// collected with, so shards made by an older expert or with another noise setting are never reused.
/// Training episodes use seeds S*2^32 + i, held-out ones S*2^32 + 2^31 + i, so the two never share an
/// episode. Training episodes are collected with action noise (DART-style, see
/// <see cref="ActionNoise"/> and envs/DATA.md "Action noise"); held-out episodes never are: they
/// are the expert's own, as held-out loss and evaluation demonstrations need.
/// A shard that exists and passes its checksum is reused; a corrupted one is rebuilt.
/// Episodes are streamed into the shard one at a time (pixel episodes are large).
/// </summary>
public static class ControlTrajectories
{
    private const long HeldOutSeedOffset = 1L << 31;

    /// <summary>The first episode seed of a run's training episodes (S*2^32 for run seed S).</summary>
    public static long TrainingSeedBase(long runSeed) => unchecked(runSeed << 32);

    /// <summary>The first episode seed of its held-out episodes (S*2^32 + 2^31).</summary>
    public static long HeldOutSeedBase(long runSeed) => TrainingSeedBase(runSeed) + HeldOutSeedOffset;

    /// <summary>
    /// The default per-step perturbation probability of each control task's training episodes:
    /// the largest of 0.05, 0.1 and 0.2 at which the perturbed expert still succeeds in at least
    /// 90% of its episodes (where the task has a success) and keeps at least 80% of its
    /// expert-normalized score (measured over seeds 0..99, envs/README.md "Returns under action
    /// noise"). Sokoban is 0: its expert replays a fixed solution (open loop), and a random push can
    /// make a level unsolvable.
    /// </summary>
    public static IReadOnlyDictionary<string, double> DefaultActionNoise { get; } = new Dictionary<string, double>
    {
        ["cartpole"] = 0.1,    // a reversed push is a 20 N kick: at 0.2 only 45% of episodes reach 500 steps
        ["mountaincar"] = 0.05, // every reversed push costs momentum: at 0.1 the score falls to 65%
        ["acrobot"] = 0.2,
        ["pendulum"] = 0.2,
        ["reacher"] = 0.2,
        ["catch"] = 0.05,      // 7 steps leave little slack: at 0.1 only 86% of balls are caught
        ["gridnav"] = 0.2,
        ["sokoban"] = 0,
    };

    /// <summary>
    /// The noise the training episodes of <paramref name="env"/> are collected with: the options'
    /// probability, else the task's default; always none for an expert that does not act from the
    /// state (Sokoban's replayed solutions).
    /// </summary>
    public static ActionNoise TrainingNoise(string env, DataOptions options)
    {
        if (!EnvRegistry.Expert(env).IsClosedLoop) return ActionNoise.None;
        var p = options.ActionNoise ?? DefaultActionNoise.GetValueOrDefault(env);
        return p == 0 ? ActionNoise.None : new ActionNoise(p);
    }

    /// <summary>The shard file name of one split (see the class summary).</summary>
    public static string ShardName(string env, string split, long seed, int episodes, ActionNoise noise, int minTimesteps = 0) =>
        FormattableString.Invariant($"{env}-{split}-seed{seed}-n{episodes}") +
        (minTimesteps > 0 ? FormattableString.Invariant($"-t{minTimesteps}") : "") +
        FormattableString.Invariant($"-expert{EnvRegistry.Expert(env).Version}-noise{noise.Probability:0.######}") +
        (noise.IsNone || noise.ContinuousStd == ActionNoise.DefaultContinuousStd ? "" : FormattableString.Invariant($"-std{noise.ContinuousStd:0.######}")) +
        ".shard";

    public static TaskData Load(string env, DataOptions options, PackageCache cache, IProgress<DataProgress>? progress)
    {
        var dir = Path.Combine(cache.Root, "shards", env);
        var train = Ensure(env, "train", options.EpisodesPerTask, options.MinTimestepsPerTask, TrainingSeedBase(options.Seed), TrainingNoise(env, options), dir, cache, progress);
        var heldOut = Ensure(env, "heldout", options.HeldOutEpisodes, 0, HeldOutSeedBase(options.Seed), ActionNoise.None, dir, cache, progress);
        return new TaskData(env, TaskFamily.Control, train, heldOut, env);
    }

    /// <summary>Environment options with the Sokoban level provider set to the training or held-out levels.</summary>
    public static EnvOptions EnvOptionsFor(string env, PackageCache cache, bool heldOut)
    {
        if (env != "sokoban") return new EnvOptions();
        return new EnvOptions(SokobanLevels: () =>
        {
            var (train, held) = SokobanLevelSet.Load(cache);
            return heldOut ? held : train;
        });
    }

    /// <summary>The shard of episodes seed, seed + 1, ...: at least <paramref name="episodes"/> of them, and
    /// more until they hold <paramref name="minTimesteps"/> timesteps (deterministic, so the name says which).</summary>
    private static ShardReader Ensure(string env, string split, int episodes, int minTimesteps, long seed, ActionNoise noise, string dir, PackageCache cache, IProgress<DataProgress>? progress)
    {
        var path = Path.Combine(dir, ShardName(env, split, seed, episodes, noise, minTimesteps));
        if (File.Exists(path))
        {
            try
            {
                var existing = new ShardReader(path);
                var whole = minTimesteps > 0 ? existing.Count >= episodes : existing.Count == episodes;
                if (whole && existing.Task == env) return existing;
                existing.Dispose();
                progress?.Report(new DataProgress(env, $"{Path.GetFileName(path)} holds {existing.Count} episodes, expected {episodes}; rebuilding"));
            }
            catch (InvalidDataException e)
            {
                progress?.Report(new DataProgress(env, $"{Path.GetFileName(path)} is damaged ({e.Message}); rebuilding"));
            }
            File.Delete(path);
        }
        Directory.CreateDirectory(dir);
        var environment = EnvRegistry.Create(env, EnvOptionsFor(env, cache, split == "heldout"));
        try
        {
            var expert = EnvRegistry.Expert(env);
            using var writer = new ShardWriter(path, env, TaskFamily.Control);
            long timesteps = 0;
            for (var i = 0; i < episodes || timesteps < minTimesteps; i++)
            {
                var episode = Rollouts.Collect(environment, expert, 1, seed + i, env, noise)[0];
                timesteps += Math.Max(1, episode.Timesteps.Count);
                writer.Add(episode);
                progress?.Report(i < episodes
                    ? new DataProgress(env, $"{split} expert episodes", i + 1, episodes)
                    : new DataProgress(env, $"{split} expert episodes (to {minTimesteps} timesteps)", Math.Min(timesteps, minTimesteps), minTimesteps));
            }
            writer.Complete();
        }
        finally
        {
            (environment as IDisposable)?.Dispose();
        }
        return new ShardReader(path);
    }
}
