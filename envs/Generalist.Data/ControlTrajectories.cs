using Generalist.Data.Cache;
using Generalist.Data.Sets;
using Generalist.Envs;
using Generalist.Tokenizers;
using Generalist.Tokenizers.Shards;

namespace Generalist.Data;

/// <summary>
/// Expert trajectories of the control environments, generated once with the environment's scripted
/// expert and written as shards: `shards/{env}/{env}-{split}-seed{S}-n{N}.shard` under the cache.
/// Training episodes use seeds S*2^32 + i, held-out ones S*2^32 + 2^31 + i, so the two never share an
/// episode. A shard that exists and passes its checksum is reused; a corrupted one is rebuilt.
/// Episodes are streamed into the shard one at a time (pixel episodes are large).
/// </summary>
public static class ControlTrajectories
{
    private const long HeldOutSeedOffset = 1L << 31;

    public static TaskData Load(string env, DataOptions options, PackageCache cache, IProgress<DataProgress>? progress)
    {
        var dir = Path.Combine(cache.Root, "shards", env);
        var baseSeed = unchecked(options.Seed << 32);
        var train = Ensure(env, "train", options.EpisodesPerTask, baseSeed, dir, cache, progress);
        var heldOut = Ensure(env, "heldout", options.HeldOutEpisodes, baseSeed + HeldOutSeedOffset, dir, cache, progress);
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

    private static ShardReader Ensure(string env, string split, int episodes, long seed, string dir, PackageCache cache, IProgress<DataProgress>? progress)
    {
        var path = Path.Combine(dir, $"{env}-{split}-seed{seed}-n{episodes}.shard");
        if (File.Exists(path))
        {
            try
            {
                var existing = new ShardReader(path);
                if (existing.Count == episodes && existing.Task == env) return existing;
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
            for (var i = 0; i < episodes; i++)
            {
                writer.Add(Rollouts.Collect(environment, expert, 1, seed + i, env)[0]);
                progress?.Report(new DataProgress(env, $"{split} expert episodes", i + 1, episodes));
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
