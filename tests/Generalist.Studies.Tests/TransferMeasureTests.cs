using Generalist.Studies.Transfer;
using Generalist.Evaluation;

namespace Generalist.Studies.Tests;

public class TransferMeasureTests
{
    [Fact]
    public void A_score_ratio_is_generalist_over_specialist_minus_one_when_the_specialist_is_clearly_above_random()
    {
        var t = TransferMeasure.Compute(generalist: 60, specialist: 40, higherIsBetter: true);
        Assert.Equal(0.5, t.Ratio!.Value, 12);
        Assert.Equal(20, t.Advantage, 12);
        Assert.Null(t.Note);
        var worse = TransferMeasure.Compute(30, 40, true);
        Assert.Equal(-0.25, worse.Ratio!.Value, 12);
        Assert.Equal(-10, worse.Advantage, 12);
    }

    [Theory]
    [InlineData(5.0, 0.0)]     // specialist exactly random: the ratio would be infinite
    [InlineData(5.0, -3.0)]    // specialist worse than random: the ratio would have the wrong sign
    [InlineData(-2.0, 0.5)]    // specialist barely above random: the ratio would be -5 (-500%)
    [InlineData(20.0, 9.99)]   // just under the threshold
    public void A_score_ratio_is_undefined_when_the_specialist_is_near_or_below_random_and_the_difference_remains(double generalist, double specialist)
    {
        var t = TransferMeasure.Compute(generalist, specialist, higherIsBetter: true);
        Assert.Null(t.Ratio);
        Assert.Equal(generalist - specialist, t.Advantage, 12);
        Assert.Contains("too close to random", t.Note);
    }

    [Fact]
    public void The_threshold_itself_gives_a_ratio()
    {
        Assert.Equal(1.0, TransferMeasure.Compute(20, TransferMeasure.MinSpecialistScore, true).Ratio!.Value, 12);
    }

    [Fact]
    public void A_loss_ratio_is_inverted_so_that_positive_means_the_generalist_is_better()
    {
        var better = TransferMeasure.Compute(generalist: 2.0, specialist: 2.5, higherIsBetter: false);
        Assert.Equal(0.25, better.Ratio!.Value, 12);
        Assert.Equal(0.5, better.Advantage, 12);
        var worse = TransferMeasure.Compute(generalist: 2.5, specialist: 2.0, higherIsBetter: false);
        Assert.Equal(-0.2, worse.Ratio!.Value, 12);
        Assert.Equal(-0.5, worse.Advantage, 12);
    }

    [Fact]
    public void A_zero_loss_has_no_relative_measure()
    {
        var t = TransferMeasure.Compute(0, 0.3, higherIsBetter: false);
        Assert.Null(t.Ratio);
        Assert.Equal(0.3, t.Advantage, 12);
        Assert.NotNull(t.Note);
    }

    [Fact]
    public void Non_finite_values_are_refused()
    {
        Assert.Throws<ArgumentException>(() => TransferMeasure.Compute(double.NaN, 40, true));
        Assert.Throws<ArgumentException>(() => TransferMeasure.Compute(1, double.PositiveInfinity, false));
    }
}

public class TransferReportTests
{
    private const string Config = """
        {
          "name": "t",
          "base": { "preset": "tiny", "steps": 40, "tasks": [ { "name": "cartpole" }, { "name": "text" } ] },
          "transfer": { "families": { "control": ["cartpole"], "language": ["text"] } }
        }
        """;

    private static SubRunResult Run(string name, string role, double cartpoleScore, double cartpoleLoss, double textLoss) =>
        new(name, role, ["cartpole", "text"], "tiny", 40, 1, "/nonexistent/" + name, 40_000, 1_000_000,
            new EvaluationResult("/nonexistent/" + name, "default",
            [
                new("cartpole", "control", new Dictionary<string, double> { ["loss"] = cartpoleLoss }, cartpoleScore),
                new("text", "language", new Dictionary<string, double> { ["loss"] = textLoss }, null),
            ], cartpoleScore, 0, 0, "/nonexistent/" + name + "/evaluation.json", "/nonexistent/" + name + "/evaluation.md"),
            [], null);

    [Fact]
    public void A_specialist_near_random_leaves_the_score_ratio_undefined_but_keeps_the_difference_and_the_loss_transfer()
    {
        var config = StudyConfig.Parse(Config);
        var runs = new[]
        {
            Run("generalist", TransferPlan.Generalist, cartpoleScore: 6, cartpoleLoss: 0.6, textLoss: 5.0),
            Run("specialist-cartpole", TransferPlan.Specialist, cartpoleScore: -2, cartpoleLoss: 0.66, textLoss: 9.0),
            Run("specialist-text", TransferPlan.Specialist, cartpoleScore: 0, cartpoleLoss: 9.0, textLoss: 5.5),
        };
        var rows = TransferReport.Rows(config, runs, ["cartpole", "text"]);

        var cartpole = rows.Single(r => r.Task == "cartpole");
        Assert.Equal("normalized_score", cartpole.Metric);
        Assert.Null(cartpole.Transfer);
        Assert.Equal(8, cartpole.Advantage!.Value, 12);
        Assert.Contains("too close to random", cartpole.TransferNote);
        Assert.Equal(0.66 / 0.6 - 1, cartpole.LossTransfer!.Value, 12);

        var text = rows.Single(r => r.Task == "text");
        Assert.Equal("loss", text.Metric);
        Assert.Equal(5.5 / 5.0 - 1, text.Transfer!.Value, 12);
        Assert.Equal(0.5, text.Advantage!.Value, 12);
        Assert.Null(text.TransferNote);

        var dir = Directory.CreateTempSubdirectory("transfer-report").FullName;
        try
        {
            var (report, _) = TransferReport.Write(dir, config, runs);
            var md = File.ReadAllText(report);
            Assert.Contains("| cartpole | control | normalized_score ↑ | 6 | -2 | +8 | undefined | +10% |", md);
            Assert.Contains("| text | language | loss ↓ | 5 | 5.5 | +0.5 | +10% | +10% |", md);
            Assert.Contains("cartpole: transfer undefined (specialist score -2 < 10", md);
            var csv = File.ReadAllLines(Path.Combine(dir, "transfer.csv"));
            Assert.StartsWith("task,family,metric,higher_is_better,generalist,specialist,difference,transfer,transfer_note,", csv[0]);
        }
        finally
        {
            Directory.Delete(dir, true);
        }
    }
}
