using Generalist.Evaluation.Statistics;
using Generalist.Studies.Scaling;

namespace Generalist.Studies.Tests;

public class ScalingReportTests
{
    internal static List<ScalingRow> Synthetic(int seed, bool budgets = false)
    {
        var random = new Random(seed);
        var rows = new List<ScalingRow>();
        foreach (var task in new[] { "cartpole", "text" })
        foreach (var n in new[] { 1e5, 3e5, 1e6, 3e6 })
        foreach (var d in budgets ? new[] { 1e6, 4e6, 1.6e7 } : new[] { 4e6 })
        {
            var loss = (task == "text" ? 2.0 : 0.8) + 90 * Math.Pow(n, -0.35) + (budgets ? 300 * Math.Pow(d, -0.3) : 0);
            loss *= 1 + 0.01 * (random.NextDouble() - 0.5);
            // The sigmoid's midpoint sits inside the losses' range, so the scores move from near 0 to near 100.
            double mid = budgets ? 4.5 : 1.6, scale = budgets ? 0.5 : 0.2;
            rows.Add(new ScalingRow(task, n, d, loss, task == "cartpole" ? 100 / (1 + Math.Exp((loss - mid) / scale)) : null));
        }
        return rows;
    }

    [Fact]
    public void AnalysisFitsEveryLawTheDataSupport()
    {
        var analysis = ScalingAnalysis.Analyze(Synthetic(1, budgets: true), new BootstrapOptions(Samples: 50));
        var cart = analysis.Tasks.Single(t => t.Task == "cartpole");
        Assert.NotNull(cart.LossVsParams);
        Assert.NotNull(cart.Joint);
        Assert.NotNull(cart.ScoreVsLoss);
        Assert.NotNull(cart.ExtrapolatedScore);
        Assert.Equal(1.6e7, cart.LossVsParamsTokens);
        Assert.Equal(3e7, cart.LossVsParams!.ExtrapolationN);
        var text = analysis.Tasks.Single(t => t.Task == "text");
        Assert.Null(text.ScoreVsLoss);
        // Clean power laws fix every exponent, so no fit is flagged as a bound of the search.
        Assert.DoesNotContain(analysis.Tasks.SelectMany(t => t.Notes), n => n.Contains("do not determine"));
    }

    [Fact]
    public void An_exponent_pinned_to_the_fitters_bound_is_flagged_not_reported_as_measured()
    {
        // mnist held-out losses of a real two-budget tiny study (5 sizes x 200 and 600 steps): the
        // 3x token spread leaves the D term's exponent at the search's upper bound.
        double[] ns = [55776, 148352, 444096, 985856, 2659200];
        double[] short_ = [0.32009, 0.27202, 0.25917, 0.25040, 0.25156];
        double[] long_ = [0.23524, 0.22156, 0.20517, 0.17358, 0.11853];
        var rows = ns.SelectMany((n, i) => new[] { new ScalingRow("mnist", n, 409600, short_[i]), new ScalingRow("mnist", n, 1228800, long_[i]) }).ToList();
        var fit = ScalingAnalysis.Analyze(rows, new BootstrapOptions(Samples: 100)).Tasks.Single();
        Assert.NotNull(fit.Joint);
        Assert.Equal(ScalingLaws.MaxExponent, fit.Joint!.Fit.Beta, 6);
        Assert.Contains(fit.Notes, n => n.StartsWith("L(N, D): the beta estimate sits at the fitter's bound 5"));
        // The L(N) note describes the rows that were fitted (the largest budget), not every row.
        Assert.DoesNotContain(fit.Notes, n => n.Contains("0.3201"));
    }

    [Fact]
    public void TooFewPointsGiveANoteNotACrash()
    {
        var analysis = ScalingAnalysis.Analyze([new("a", 1e5, 1e6, 3), new("a", 1e6, 1e6, 2)], new BootstrapOptions(Samples: 20));
        Assert.Null(analysis.Tasks[0].LossVsParams);
        Assert.Contains(analysis.Tasks[0].Notes, n => n.Contains("at least 3 points"));
    }

    [Fact]
    public void Scores_that_stay_at_one_level_get_no_sigmoid_but_a_note_and_still_a_score_plot()
    {
        // Every size still plays like the random policy (the tiny demonstration's cartpole): the
        // scores carry no information about where along the loss the task is learned.
        var rows = new[] { 5e4, 1.5e5, 4.4e5, 1e6, 2.7e6 }.Select((n, i) => new ScalingRow("cartpole", n, 6e5, 0.699 - 0.002 * i, -2.7 + 0.1 * (i % 2))).ToList();
        var analysis = ScalingAnalysis.Analyze(rows, new BootstrapOptions(Samples: 50));
        var cart = analysis.Tasks.Single();
        Assert.Null(cart.ScoreVsLoss);
        Assert.Null(cart.ExtrapolatedScore);
        Assert.Contains(cart.Notes, n => n.Contains("score(L) not fitted: the scores span only 0.1 points"));

        var dir = Path.Combine(Path.GetTempPath(), "scaling-flat-" + Guid.NewGuid().ToString("N"));
        try
        {
            var (report, artifacts) = ScalingReport.Write(dir, "flat", rows, analysis);
            Assert.Contains(artifacts, a => a.EndsWith("score_vs_loss_cartpole.png"));
            var data = File.ReadAllText(Path.Combine(dir, "plots", "score_vs_params_cartpole.csv"));
            Assert.Contains("expert (100)", data);
            Assert.Contains("random policy (0)", data);
            Assert.Contains("no sigmoid: see the notes", File.ReadAllText(report));
            Assert.Contains("held-out loss vs training FLOPs", File.ReadAllText(Path.Combine(dir, "plots", "loss_vs_flops_cartpole.json")));
        }
        finally
        {
            if (Directory.Exists(dir)) Directory.Delete(dir, true);
        }
    }

    [Fact]
    public void ReportWritesPlotsDataAndMarkdownThatLinksThem()
    {
        var dir = Path.Combine(Path.GetTempPath(), "scaling-report-" + Guid.NewGuid().ToString("N"));
        try
        {
            var rows = Synthetic(2);
            var (report, artifacts) = ScalingReport.Write(dir, "Synthetic scaling", rows, ScalingAnalysis.Analyze(rows, new BootstrapOptions(Samples: 50)));
            var md = File.ReadAllText(report);
            foreach (var ext in new[] { ".png", ".svg", ".csv", ".json" })
                Assert.Contains(artifacts, a => a.EndsWith("loss_vs_params_cartpole" + ext));
            Assert.Contains(artifacts, a => a.EndsWith("score_vs_loss_cartpole.png"));
            foreach (var a in artifacts)
            {
                Assert.True(new FileInfo(a).Length > 0, a);
                if (a.EndsWith(".png") || a.EndsWith(".svg") || a.EndsWith(".csv"))
                    Assert.Contains(Path.GetRelativePath(dir, a), md);
            }
            var png = File.ReadAllBytes(artifacts.First(a => a.EndsWith(".png")));
            Assert.Equal(new byte[] { 0x89, (byte)'P', (byte)'N', (byte)'G' }, png[..4]);
            Assert.Empty(Directory.GetFiles(dir, "*.tmp*", SearchOption.AllDirectories));
            Assert.Equal(rows, ScalingResultsCsv.Load(Path.Combine(dir, "results.csv")));
        }
        finally
        {
            if (Directory.Exists(dir)) Directory.Delete(dir, true);
        }
    }
}
