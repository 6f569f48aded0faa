using Generalist.Datasets.Parsers.R;
using Generalist.Datasets.Sets;
using Generalist.Episodes;
using Generalist.TestSupport;

namespace Generalist.Datasets.Tests;

public sealed class RSerializationTests : IDisposable
{
    private readonly TempDir _dir = new();

    /// <summary>A 4-row MovieLens-shaped frame: two users, a factor of genres, an NA year, a compact 1:n column.</summary>
    internal static byte[] MoviesFrame() => RFixtureWriter.Serialize(w => w.DataFrame(4,
        ("movieId", c => c.CompactIntSeq(4, 101)),
        ("title", c => c.Strings(["Dumbo", "Heat", null, "Fargo"])),
        ("year", c => c.Ints([1941, 1995, RObject.NaInteger, 1996])),
        ("genres", c => c.Factor([2, 1, 3, 1], ["Action|Crime|Thriller", "Animation|Children|Drama|Musical", "Comedy"])),
        ("userId", c => c.Ints([7, 7, 7, 12])),
        ("rating", c => c.Reals([3.0, 4.5, 0.5, 5.0])),
        ("timestamp", c => c.Ints([300, 100, 200, 50]))));

    [Fact]
    public void Unserializes_a_data_frame_with_factors_missing_values_and_compact_sequences()
    {
        var frame = new RDataFrame(RXdrReader.Unserialize(MoviesFrame(), "fixture"), "fixture");
        Assert.Equal(4, frame.RowCount);
        Assert.Equal(["movieId", "title", "year", "genres", "userId", "rating", "timestamp"], frame.ColumnNames);
        Assert.Equal([101, 102, 103, 104], frame.Integers("movieId"));
        Assert.Equal(new[] { "Dumbo", "Heat", null, "Fargo" }, frame.Strings("title").AsEnumerable());
        Assert.Equal(RObject.NaInteger, frame.Integers("year")[2]);
        Assert.Equal("Animation|Children|Drama|Musical", frame.Strings("genres")[0]);
        Assert.Equal("Action|Crime|Thriller", frame.Strings("genres")[1]);
        Assert.Equal([3.0, 4.5, 0.5, 5.0], frame.Doubles("rating"));
        Assert.Equal([300.0, 100, 200, 50], frame.Doubles("timestamp"));
        Assert.Contains("no column `nope`", Assert.Throws<InvalidDataException>(() => frame.Integers("nope")).Message);
    }

    [Fact]
    public void Reads_a_variable_through_the_rdx_index_and_the_zlib_rdb_entry()
    {
        var basePath = _dir.File("data/Rdata");
        var other = RFixtureWriter.Serialize(w => w.Reals([1.5, 2.5]));
        RFixtureWriter.WriteLazyLoadDatabase(basePath, ("other", other), ("movielens", MoviesFrame()));
        var db = RLazyLoadDatabase.Open(basePath);
        Assert.Equal(["other", "movielens"], db.Names);
        Assert.Equal([1.5, 2.5], db.Read("other").Reals!);
        var frame = new RDataFrame(db.Read("movielens"), "movielens");
        Assert.Equal(4, frame.RowCount);
        Assert.Contains("no variable `missing`", Assert.Throws<KeyNotFoundException>(() => db.Read("missing")).Message);
    }

    [Fact]
    public void A_corrupted_rdb_entry_or_truncated_stream_is_refused()
    {
        var basePath = _dir.File("data/Rdata");
        RFixtureWriter.WriteLazyLoadDatabase(basePath, ("movielens", MoviesFrame()));
        var bytes = File.ReadAllBytes(basePath + ".rdb");
        File.WriteAllBytes(basePath + ".rdb", bytes[..(bytes.Length / 2)]);
        Assert.Throws<InvalidDataException>(() => RLazyLoadDatabase.Open(basePath).Read("movielens"));
        var serialized = MoviesFrame();
        Assert.Contains("ends early", Assert.Throws<InvalidDataException>(() => RXdrReader.Unserialize(serialized[..(serialized.Length - 10)], "cut")).Message);
        Assert.Contains("not an R XDR", Assert.Throws<InvalidDataException>(() => RXdrReader.Unserialize("RDA3\n"u8.ToArray(), "ascii")).Message);
    }

    [Fact]
    public void MovieLens_episodes_follow_time_order_map_half_stars_and_hold_out_whole_users()
    {
        var ratings = MovieLensSet.ReadRatings(new RDataFrame(RXdrReader.Unserialize(MoviesFrame(), "fixture"), "fixture"));
        var (train, heldOut) = MovieLensSet.Build(ratings, maxRatings: 2);
        Assert.Equal(2, train.Count + heldOut.Count);
        var episodes = Enumerable.Range(0, train.Count).Select(train.Get).Concat(Enumerable.Range(0, heldOut.Count).Select(heldOut.Get)).ToList();
        var user7 = episodes.Single(e => e.Timesteps.Count == 2); // user 7 has three ratings, capped to two
        // Time order: "Heat" (t=100, 4.5 stars) comes before the NA-year movie (t=200, 0.5 stars).
        Assert.Equal([8], user7.Timesteps[0].Action!.Discrete!);
        Assert.Equal([0], user7.Timesteps[1].Action!.Discrete!);
        Assert.Equal([1, 6, 17], user7.Timesteps[0].Observation.Discrete!); // Action, Crime, Thriller
        Assert.Equal(MovieLensSet.YearFeature(1995), user7.Timesteps[0].Observation.Continuous![0]);
        Assert.Equal(0f, user7.Timesteps[1].Observation.Continuous![0]); // unknown year
        Assert.Equal(4.5, MovieLensSet.ActionToRating(8));
        Assert.Throws<InvalidDataException>(() => MovieLensSet.RatingToAction(3.3));
    }

    public void Dispose() => _dir.Dispose();
}
