namespace Generalist.Evaluation.Statistics;

public sealed record Rating(int User, int Item, double Value);

public sealed record BaselineRmse(string Name, double Rmse, int Count);

/// <summary>
/// Rating-prediction baselines on one split: fitted on the training ratings (which include the
/// held-out users' earlier ratings, the same context the model sees) and scored by RMSE on the
/// held-out ratings. Predictions are clipped to the observed rating range.
/// </summary>
public static class RatingBaselines
{
    public const string GlobalMean = "global_mean", UserMean = "user_mean", ItemMean = "item_mean", UserItemBias = "user_item_bias";

    /// <param name="regularization">Shrinkage of the biases towards 0 (Koren 2010 uses 10-25); default 10.</param>
    /// <param name="iterations">Alternating updates of item and user biases.</param>
    public static IReadOnlyList<BaselineRmse> Evaluate(IReadOnlyList<Rating> train, IReadOnlyList<Rating> heldOut, double regularization = 10, int iterations = 15)
    {
        if (train.Count == 0) throw new ArgumentException("no training ratings");
        if (heldOut.Count == 0) throw new ArgumentException("no held-out ratings");
        if (regularization < 0) throw new ArgumentException("regularization must be >= 0");
        var mu = train.Average(r => r.Value);
        var lo = train.Min(r => r.Value);
        var hi = train.Max(r => r.Value);
        var userMean = train.GroupBy(r => r.User).ToDictionary(g => g.Key, g => g.Average(r => r.Value));
        var itemMean = train.GroupBy(r => r.Item).ToDictionary(g => g.Key, g => g.Average(r => r.Value));
        var (userBias, itemBias) = FitBiases(train, mu, regularization, iterations);

        double Score(Func<Rating, double> predict) =>
            Math.Sqrt(heldOut.Average(r => { var e = Math.Clamp(predict(r), lo, hi) - r.Value; return e * e; }));

        return
        [
            new(GlobalMean, Score(_ => mu), heldOut.Count),
            new(UserMean, Score(r => userMean.GetValueOrDefault(r.User, mu)), heldOut.Count),
            new(ItemMean, Score(r => itemMean.GetValueOrDefault(r.Item, mu)), heldOut.Count),
            new(UserItemBias, Score(r => mu + userBias.GetValueOrDefault(r.User) + itemBias.GetValueOrDefault(r.Item)), heldOut.Count),
        ];
    }

    /// <summary>Regularized biases r ~ mu + b_u + b_i by alternating closed-form updates (Koren 2010, eq. 2-3).</summary>
    public static (Dictionary<int, double> User, Dictionary<int, double> Item) FitBiases(IReadOnlyList<Rating> train, double mu, double regularization, int iterations)
    {
        var user = new Dictionary<int, double>();
        var item = new Dictionary<int, double>();
        var byItem = train.GroupBy(r => r.Item).ToList();
        var byUser = train.GroupBy(r => r.User).ToList();
        for (var it = 0; it < iterations; it++)
        {
            foreach (var g in byItem)
                item[g.Key] = g.Sum(r => r.Value - mu - user.GetValueOrDefault(r.User)) / (regularization + g.Count());
            foreach (var g in byUser)
                user[g.Key] = g.Sum(r => r.Value - mu - item.GetValueOrDefault(r.Item)) / (regularization + g.Count());
        }
        return (user, item);
    }

    /// <summary>RMSE of arbitrary predictions against targets (the model's predictions).</summary>
    public static double Rmse(IReadOnlyList<double> predictions, IReadOnlyList<double> targets)
    {
        if (predictions.Count != targets.Count || predictions.Count == 0) throw new ArgumentException("predictions and targets must have the same, non-zero length");
        return Math.Sqrt(predictions.Zip(targets, (p, t) => (p - t) * (p - t)).Average());
    }
}

/// <summary>Published MovieLens-1M RMSE figures, quoted for context only: a different data set and split than ours.</summary>
public static class PublishedMovieLensFigures
{
    public const string Source = "Ganguli et al. 2022 (MovieLens-1M; a different data set and split, not comparable number for number)";
    public static IReadOnlyList<(string Name, string Rmse)> Rows { get; } =
    [
        ("chance", "1.91"),
        ("language model, zero-shot", "0.94-1.06"),
        ("baseline", "0.98"),
        ("state of the art", "0.82"),
    ];
}
