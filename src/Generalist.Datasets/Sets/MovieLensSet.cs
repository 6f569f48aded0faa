using Generalist.Datasets.Cache;
using Generalist.Datasets.Parsers.R;
using Generalist.Episodes;

namespace Generalist.Datasets.Sets;

/// <summary>One rating of the MovieLens table.</summary>
public sealed record MovieRating(int UserId, int MovieId, string Title, int? Year, string[] Genres, double Rating, long Timestamp);

/// <summary>
/// MovieLens rating prediction in context, from Debian r-cran-dslabs (`movielens`: 100,004 ratings,
/// 671 users). One episode per user: the user's first <see cref="DefaultMaxRatings"/> ratings in
/// time order. Each timestep observes the movie as its genres (discrete: indices into
/// <see cref="Genres"/>, sorted, one to ten values) and its year (continuous: (year - 1960) / 60,
/// clipped to [-1, 1]; 0 when the year is unknown), and acts with the rating in half stars as one
/// discrete value 0..9 (0.5 stars -> 0, 5 stars -> 9): a categorical target over the ten ratings
/// the data uses; RMSE is computed on the decoded stars. One user in ten (by a hash of the user id)
/// is held out.
/// </summary>
public static class MovieLensSet
{
    public const string TaskName = "movielens";
    /// <summary>64 ratings x about 5 tokens (2-3 genres, year, separator, rating) fit a 512-token context.</summary>
    public const int DefaultMaxRatings = 64;

    /// <summary>The genre vocabulary of MovieLens, in the fixed order whose index is the discrete value.</summary>
    public static readonly IReadOnlyList<string> Genres =
    [
        "(no genres listed)", "Action", "Adventure", "Animation", "Children", "Comedy", "Crime", "Documentary", "Drama",
        "Fantasy", "Film-Noir", "Horror", "IMAX", "Musical", "Mystery", "Romance", "Sci-Fi", "Thriller", "War", "Western",
    ];

    private static readonly Dictionary<string, int> GenreIndex = Genres.Select((g, i) => (g, i)).ToDictionary(p => p.g, p => p.i, StringComparer.Ordinal);

    public static int RatingToAction(double stars)
    {
        var halfStars = (int)Math.Round(stars * 2);
        if (halfStars is < 1 or > 10 || Math.Abs(stars * 2 - halfStars) > 1e-9)
            throw new InvalidDataException($"movielens: rating {stars} is not a half-star value in [0.5, 5]");
        return halfStars - 1;
    }

    public static double ActionToRating(int action) => (action + 1) / 2.0;

    public static float YearFeature(int? year) => year is { } y ? (float)Math.Clamp((y - 1960) / 60.0, -1.0, 1.0) : 0f;

    public static (IEpisodeSource Train, IEpisodeSource HeldOut) Load(PackageCache cache, Action<string>? log = null, int maxRatings = DefaultMaxRatings)
    {
        var root = cache.Ensure(DataPackages.DsLabs, log);
        var db = RLazyLoadDatabase.Open(Path.Combine(root, "usr", "lib", "R", "site-library", "dslabs", "data", "Rdata"));
        return Build(ReadRatings(new RDataFrame(db.Read("movielens"), "dslabs::movielens")), maxRatings);
    }

    public static List<MovieRating> ReadRatings(RDataFrame frame)
    {
        var users = frame.Integers("userId");
        var movies = frame.Integers("movieId");
        var titles = frame.Strings("title");
        var years = frame.Integers("year");
        var genres = frame.Strings("genres");
        var ratings = frame.Doubles("rating");
        var times = frame.Doubles("timestamp");
        var result = new List<MovieRating>(frame.RowCount);
        for (var i = 0; i < frame.RowCount; i++)
            result.Add(new MovieRating(users[i], movies[i], titles[i] ?? "", years[i] == RObject.NaInteger ? null : years[i],
                (genres[i] ?? Genres[0]).Split('|'), ratings[i], (long)times[i]));
        return result;
    }

    public static (IEpisodeSource Train, IEpisodeSource HeldOut) Build(IReadOnlyList<MovieRating> ratings, int maxRatings = DefaultMaxRatings)
    {
        if (maxRatings < 1) throw new ArgumentOutOfRangeException(nameof(maxRatings), maxRatings, "ratings per episode must be at least 1");
        var users = ratings.GroupBy(r => r.UserId).OrderBy(g => g.Key).ToList();
        var (train, heldOut) = StableSplit.Partition(users, g => $"user:{g.Key}");
        return (ToSource(train, maxRatings), ToSource(heldOut, maxRatings));
    }

    private static InMemoryEpisodeSource ToSource(IEnumerable<IGrouping<int, MovieRating>> users, int maxRatings) =>
        new(TaskName, TaskFamily.InContext, users.Select(user => new Episode(TaskName, user
            .OrderBy(r => r.Timestamp).ThenBy(r => r.MovieId)
            .Take(maxRatings)
            .Select(ToTimestep)
            .ToList())).ToList());

    private static Timestep ToTimestep(MovieRating rating)
    {
        var genres = rating.Genres.Select(g =>
        {
            return GenreIndex.TryGetValue(g, out var index) ? index : throw new InvalidDataException($"movielens: unknown genre `{g}` (known: {string.Join(", ", Genres)})");
        }).Distinct().Order().ToArray();
        return new Timestep(new Observation(Discrete: genres, Continuous: [YearFeature(rating.Year)]), ActionValue.OfDiscrete(RatingToAction(rating.Rating)));
    }
}
