using System.Diagnostics;
using Generalist.Datasets.Cache;

namespace Generalist.Datasets;

/// <summary>What `data prepare` did for one task.</summary>
public sealed record PreparedTask(string Name, string Family, int TrainEpisodes, int HeldOutEpisodes, double Seconds, string Source);

/// <summary>What `data prepare` did: the cache it filled, each task and the total time.</summary>
public sealed record PrepareReport(string CacheDirectory, int EpisodesPerTask, long Seed, IReadOnlyList<PreparedTask> Tasks, double Seconds);

/// <summary>
/// Fetches, verifies and builds the data of a list of tasks, in order: packages are downloaded and
/// checked, shards written, and the first and last episode of every split read back, so a lazy
/// source's files (image arrays, PNGs) are opened and validated now rather than during training.
/// </summary>
public static class DataPreparer
{
    /// <summary>The suite `data prepare` builds when no tasks are named: every task.</summary>
    public static IReadOnlyList<string> DefaultTasks => TaskCatalog.Names;

    public static PrepareReport Prepare(IReadOnlyList<string> tasks, DataOptions options, IProgress<DataProgress>? progress = null, PackageCache? cache = null)
    {
        options.Validate();
        foreach (var task in tasks) TaskCatalog.Describe(task); // every name checked before any work starts
        cache ??= new PackageCache(options.CacheDirectory);
        var total = Stopwatch.StartNew();
        var prepared = new List<PreparedTask>();
        foreach (var name in tasks)
        {
            var watch = Stopwatch.StartNew();
            progress?.Report(new DataProgress(name, "starting"));
            var data = TaskCatalog.Load(name, options, progress, cache);
            foreach (var source in new[] { data.Train, data.HeldOut })
            {
                if (source.Count == 0) throw new InvalidDataException($"task '{name}': the {(source == data.Train ? "training" : "held-out")} split is empty");
                source.Get(0);
                source.Get(source.Count - 1);
            }
            prepared.Add(new PreparedTask(name, data.Family.ToString(), data.Train.Count, data.HeldOut.Count, watch.Elapsed.TotalSeconds, TaskCatalog.Describe(name).Source));
            progress?.Report(new DataProgress(name, "done", 1, 1));
        }
        return new PrepareReport(cache.Root, options.EpisodesPerTask, options.Seed, prepared, total.Elapsed.TotalSeconds);
    }
}
