using Generalist.Evaluation.Statistics;

namespace Generalist.Evaluation.InContext;

/// <summary>One held-out rating as the model predicted it: the user's ratings in the model's window before it (oldest first).</summary>
public sealed record RatingQuery(int User, int Item, double Rating, double ModelPrediction, IReadOnlyList<(int Item, double Rating)> Context);

/// <summary>A bucket of ratings-in-context counts, [Low, High] inclusive.</summary>
public sealed record RatingBucket(int Low, int High)
{
    public bool Contains(int count) => count >= Low && count <= High;
    public string Label => Low == High ? $"{Low}" : High == int.MaxValue ? $"{Low}+" : $"{Low}-{High}";
}

/// <summary>RMSE of one predictor per bucket of ratings in context, with a bootstrap interval over users.</summary>
public sealed record RatingCurveSeries(string Name, double[] Rmse, Interval?[] Interval);

public sealed record RatingCurveReport(IReadOnlyList<RatingBucket> Buckets, int[] Count, IReadOnlyList<RatingCurveSeries> Series, int Users);

/// <summary>
/// MovieLens in context as a curve: RMSE against the number c of the user's ratings the model had
/// in its window, beside bias baselines that see exactly those c ratings: the global mean, the
/// mean of the c ratings (the user mean), the item mean from the training users, and the
/// regularized user+item bias (item biases from the training users, the user bias from the c
/// ratings; Koren 2010). Predictions are clipped to the training ratings' range.
/// </summary>
public static class RatingCurve
{
    public static readonly RatingBucket[] DefaultBuckets = [new(0, 0), new(1, 1), new(2, 3), new(4, 7), new(8, 15), new(16, 31), new(32, 63), new(64, int.MaxValue)];

    public static RatingCurveReport Evaluate(IReadOnlyList<Rating> train, IReadOnlyList<RatingQuery> queries, BootstrapOptions bootstrap,
        double regularization = 10, int iterations = 15)
    {
        if (train.Count == 0) throw new ArgumentException("no training ratings");
        if (queries.Count == 0) throw new ArgumentException("no held-out ratings");
        var mu = train.Average(r => r.Value);
        var (lo, hi) = (train.Min(r => r.Value), train.Max(r => r.Value));
        var itemMean = train.GroupBy(r => r.Item).ToDictionary(g => g.Key, g => g.Average(r => r.Value));
        var (_, itemBias) = RatingBaselines.FitBiases(train, mu, regularization, iterations);
        double UserBias(RatingQuery q) => q.Context.Count == 0 ? 0
            : q.Context.Sum(c => c.Rating - mu - itemBias.GetValueOrDefault(c.Item)) / (regularization + q.Context.Count);
        var predictors = new (string Name, Func<RatingQuery, double> Predict)[]
        {
            ("model", q => q.ModelPrediction),
            (RatingBaselines.GlobalMean, _ => mu),
            (RatingBaselines.UserMean, q => q.Context.Count == 0 ? mu : q.Context.Average(c => c.Rating)),
            (RatingBaselines.ItemMean, q => itemMean.GetValueOrDefault(q.Item, mu)),
            (RatingBaselines.UserItemBias, q => mu + itemBias.GetValueOrDefault(q.Item) + UserBias(q)),
        };
        var buckets = DefaultBuckets.Where(b => queries.Any(q => b.Contains(q.Context.Count))).ToList();
        int Bucket(RatingQuery q) => buckets.FindIndex(b => b.Contains(q.Context.Count));
        var users = queries.Select(q => q.User).Distinct().OrderBy(u => u).ToArray();
        var byUser = users.ToDictionary(u => u, u => queries.Where(q => q.User == u).ToList());
        var resamples = IclAnalysis.Resamples(users.Length, bootstrap);
        var series = predictors.Select(p =>
        {
            // Squared errors per (user, bucket): an RMSE over any set of users sums these.
            var sums = new double[users.Length, buckets.Count];
            var counts = new int[users.Length, buckets.Count];
            for (var u = 0; u < users.Length; u++)
                foreach (var q in byUser[users[u]])
                {
                    var e = (p.Name == "model" ? q.ModelPrediction : Math.Clamp(p.Predict(q), lo, hi)) - q.Rating;
                    sums[u, Bucket(q)] += e * e;
                    counts[u, Bucket(q)]++;
                }
            double Rmse(IEnumerable<int> userIndices, int b)
            {
                double s = 0;
                var n = 0;
                foreach (var u in userIndices) { s += sums[u, b]; n += counts[u, b]; }
                return n == 0 ? double.NaN : Math.Sqrt(s / n);
            }
            var rmse = Enumerable.Range(0, buckets.Count).Select(b => Rmse(Enumerable.Range(0, users.Length), b)).ToArray();
            var intervals = Enumerable.Range(0, buckets.Count).Select(b => Percentiles.IntervalOf(resamples.Select(r => Rmse(r, b)), bootstrap.Confidence)).ToArray();
            return new RatingCurveSeries(p.Name, rmse, intervals);
        }).ToList();
        var count = buckets.Select((_, b) => queries.Count(q => Bucket(q) == b)).ToArray();
        return new RatingCurveReport(buckets, count, series, users.Length);
    }
}
