using Generalist.Evaluation.Statistics;

namespace Generalist.Evaluation.Tests;

public class NormalizedScoreTests
{
    [Theory]
    [InlineData(500, 20, 500, 100)]
    [InlineData(20, 20, 500, 0)]
    [InlineData(260, 20, 500, 50)]
    [InlineData(-100, -200, 0, 50)]
    [InlineData(10, 20, 120, -10)]
    public void ScoreIsHundredTimesTheFractionOfTheGapClosed(double r, double random, double expert, double expected) =>
        Assert.Equal(expected, NormalizedScore.Compute(r, random, expert), 9);

    [Fact]
    public void ExpertNotBetterThanRandomIsRejected()
    {
        var e = Assert.Throws<ArgumentException>(() => NormalizedScore.Compute(1, 5, 5));
        Assert.Contains("must exceed random", e.Message);
        Assert.Throws<ArgumentException>(() => NormalizedScore.Compute(double.NaN, 0, 5));
    }

    [Fact]
    public void AggregateCountsThresholdsInclusivelyAndSkipsMissing()
    {
        var a = NormalizedScore.Aggregate([50, 80, 79.999, 120, -10, null]);
        Assert.Equal(5, a.Count);
        Assert.Equal((50 + 80 + 79.999 + 120 - 10) / 5, a.Mean!.Value, 9);
        Assert.Equal(79.999, a.Median!.Value, 9);
        Assert.Equal(4, a.AtOrAbove50);
        Assert.Equal(2, a.AtOrAbove80);
        Assert.Null(NormalizedScore.Aggregate([null]).Mean);
    }
}
