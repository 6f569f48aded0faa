using Generalist.Evaluation.Statistics;

namespace Generalist.Evaluation.Tests;

public class RatingBaselineTests
{
    [Fact]
    public void BaselinesMatchHandComputedValues()
    {
        List<Rating> train = [new(1, 10, 5), new(1, 11, 3), new(2, 10, 4), new(2, 12, 2)];
        List<Rating> held = [new(1, 12, 4), new(2, 11, 2)];
        var r = RatingBaselines.Evaluate(train, held, regularization: 0).ToDictionary(b => b.Name, b => b.Rmse);
        // global mean 3.5: errors 0.5, 1.5
        Assert.Equal(Math.Sqrt((0.25 + 2.25) / 2), r[RatingBaselines.GlobalMean], 12);
        // user means 4 and 3: errors 0 and 1
        Assert.Equal(Math.Sqrt(0.5), r[RatingBaselines.UserMean], 12);
        // item means: item 12 -> 2 (error 2), item 11 -> 3 (error 1)
        Assert.Equal(Math.Sqrt(2.5), r[RatingBaselines.ItemMean], 12);
    }

    [Fact]
    public void BiasModelBeatsGlobalMeanOnStructuredRatings()
    {
        var random = new Random(5);
        var userBias = Enumerable.Range(0, 60).Select(_ => random.NextDouble() - 0.5).ToArray();
        var itemBias = Enumerable.Range(0, 40).Select(_ => 2 * (random.NextDouble() - 0.5)).ToArray();
        var all = new List<Rating>();
        for (var u = 0; u < 60; u++)
        for (var k = 0; k < 15; k++)
        {
            var i = random.Next(40);
            all.Add(new Rating(u, i, Math.Clamp(Math.Round(3.5 + userBias[u] + itemBias[i] + 0.3 * (random.NextDouble() - 0.5)), 1, 5)));
        }
        var held = all.Where((_, j) => j % 15 == 14).ToList();
        var train = all.Where((_, j) => j % 15 != 14).ToList();
        var r = RatingBaselines.Evaluate(train, held).ToDictionary(b => b.Name, b => b.Rmse);
        Assert.True(r[RatingBaselines.UserItemBias] < r[RatingBaselines.GlobalMean] * 0.8, $"{r[RatingBaselines.UserItemBias]} vs {r[RatingBaselines.GlobalMean]}");
        Assert.True(r[RatingBaselines.UserItemBias] < r[RatingBaselines.UserMean]);
    }
}
