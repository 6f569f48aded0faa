using Generalist.Evaluation.Statistics;

namespace Generalist.Evaluation.Tests;

public class EpisodeScoresTests
{
    private static readonly BootstrapOptions Options = new(Samples: 2000);

    [Fact]
    public void InterquartileMeanDropsAQuarterFromEachEnd()
    {
        Assert.Equal(4.5, EpisodeScores.InterquartileMean([8, 1, 7, 2, 6, 3, 5, 4]), 12);   // mean of 3..6
        Assert.Equal(2.0, EpisodeScores.InterquartileMean([1, 2, 3]), 12);                  // n < 4: nothing dropped
        Assert.Equal(5.0, EpisodeScores.InterquartileMean([5, 5, 5, 5, -1000, 5, 5, 1000]), 12);
        Assert.Throws<ArgumentException>(() => EpisodeScores.InterquartileMean([]));
    }

    [Fact]
    public void EpisodeScoresAverageToTheTaskScore()
    {
        double[] returns = [10, 200, 500, 40];
        var scores = EpisodeScores.Normalize(returns, 20, 500);
        Assert.Equal(NormalizedScore.Compute(returns.Average(), 20, 500), scores.Average(), 9);
    }

    [Fact]
    public void TheIntervalIsSeededCoversTheMeanAndNarrowsWithEpisodes()
    {
        var random = new Random(5);
        var few = Enumerable.Range(0, 5).Select(_ => random.NextDouble() * 100).ToList();
        var many = Enumerable.Range(0, 50).Select(_ => random.NextDouble() * 100).ToList();
        var a = EpisodeScores.MeanInterval(many, Options)!;
        Assert.Equal(a, EpisodeScores.MeanInterval(many, Options));
        Assert.True(a.Contains(many.Average()));
        var narrow = a.High - a.Low;
        var wide = EpisodeScores.MeanInterval(few, Options)!;
        Assert.True(wide.High - wide.Low > narrow, $"5 episodes {wide}, 50 episodes {a}");
        Assert.Null(EpisodeScores.MeanInterval([42], Options));
    }

    [Fact]
    public void StratifiedBootstrapResamplesWithinTasks()
    {
        // A task whose episodes all score the same contributes no spread, however the others vary.
        IReadOnlyList<double> constant = Enumerable.Repeat(80.0, 20).ToArray();
        var (mean, iqm) = EpisodeScores.Stratified([constant, constant], Options);
        Assert.Equal(new Interval(80, 80), mean);
        Assert.Equal(new Interval(80, 80), iqm);
        var random = new Random(9);
        IReadOnlyList<double> noisy = Enumerable.Range(0, 20).Select(_ => random.NextDouble() * 100).ToArray();
        var (m, q) = EpisodeScores.Stratified([constant, noisy], Options);
        Assert.True(m!.Contains((80 + noisy.Average()) / 2));
        Assert.True(q!.Contains(EpisodeScores.InterquartileMean([.. constant, .. noisy])));
        Assert.Equal((null, null), EpisodeScores.Stratified([], Options));
    }
}
