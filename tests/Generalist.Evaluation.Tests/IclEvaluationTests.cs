using Generalist.Datasets.Sets;
using Generalist.Evaluation.InContext;
using Generalist.Evaluation.Statistics;
using Generalist.Tokenizers;
using MathNet.Numerics.LinearAlgebra;
using Generalist.Episodes;

namespace Generalist.Evaluation.Tests;

/// <summary>The in-context regression analysis: algorithms, agreement, intervals and the exactness of its baselines.</summary>
public class IclEvaluationTests
{
    private static readonly IclRegressionOptions Task = new(Dimension: 3, Pairs: 10, NoiseStd: 0.3);
    private static readonly IclEvaluationOptions Small = new(Prompts: 24, TuningPrompts: 8) { Bootstrap = new BootstrapOptions(Samples: 200, Seed: 5) };

    /// <summary>A stand-in model that answers with one algorithm's predictions (so agreement with it must be 0).</summary>
    private static Func<IReadOnlyList<Episode>, IReadOnlyList<double[]>> Imitating(IclAlgorithm algorithm) => episodes =>
        IclAnalysis.Predict([algorithm], episodes.Select(IclRegressionEvaluation.ToSequence).ToList(), int.MaxValue)[0];

    private static IclReport Run(Func<IReadOnlyList<Episode>, IReadOnlyList<double[]>> model, int context = 1000) =>
        IclRegressionEvaluation.Run(seed: 7, Task, context, e => e.Timesteps.Count * (Task.Dimension + 2) + 1, model, Small);

    [Fact]
    public void Least_squares_and_ridge_match_an_independent_implementation_on_the_evaluators_own_prompts()
    {
        var report = Run(Imitating(IclAlgorithms.Closed([0.1])[0]));
        // The prompts the evaluator scored: the same held-out functions, rebuilt here.
        var source = IclRegressionSource.HeldOutShifted(7, Task, Task);
        var (indices, _) = IclRegressionEvaluation.Indices(Small.Prompts, Small.TuningPrompts, source.Count);
        var prompts = indices.Select(i => IclRegressionEvaluation.ToSequence(source.Get(i))).ToList();
        var main = report.Conditions.Single(c => c.Name == IclRegressionEvaluation.InDistribution);
        foreach (var (name, lambda) in new[] { (IclAlgorithms.LeastSquares, 0.0), (IclAlgorithms.RidgeName(0.1), 0.1), (IclAlgorithms.RidgeName(1), 1.0) })
        {
            var curve = main.Algorithms.Single(a => a.Name == name);
            for (var k = 0; k <= main.MaxK; k++)
            {
                var errors = prompts.Select(p => { var e = MathNetPredict(p.X[..k], p.Y[..k], p.X[k], lambda) - p.Y[k]; return e * e; }).ToList();
                Assert.Equal(errors.Average(), curve.Mse[k], 1e-9);
            }
        }
    }

    /// <summary>MathNet: the pseudo-inverse (SVD) for least squares, a Cholesky solve of the normal equations for ridge.</summary>
    private static double MathNetPredict(double[][] xs, double[] ys, double[] q, double lambda)
    {
        if (xs.Length == 0) return 0;
        var x = Matrix<double>.Build.DenseOfRowArrays(xs);
        var y = Vector<double>.Build.DenseOfArray(ys);
        var w = lambda == 0
            ? x.PseudoInverse() * y
            : (x.TransposeThisAndMultiply(x) + lambda * Matrix<double>.Build.DenseIdentity(q.Length)).Cholesky().Solve(x.TransposeThisAndMultiply(y));
        return w.DotProduct(Vector<double>.Build.DenseOfArray(q));
    }

    [Fact]
    public void A_model_that_imitates_an_algorithm_agrees_with_it_exactly_and_not_with_the_others()
    {
        var averaging = IclAlgorithms.Closed([0.1]).Single(a => a.Name == IclAlgorithms.Averaging);
        var main = Run(Imitating(averaging)).Conditions[0];
        var same = main.Agreement.Single(a => a.Algorithm == IclAlgorithms.Averaging);
        Assert.All(same.MeanSquaredDifference, v => Assert.Equal(0, v, 15));
        var ls = main.Agreement.Single(a => a.Algorithm == IclAlgorithms.LeastSquares);
        Assert.True(ls.MeanSquaredDifference[main.MaxK] > 1e-3, $"averaging and least squares differ at k = {main.MaxK}: {ls.MeanSquaredDifference[main.MaxK]}");
        // Its MSE curve is the algorithm's own, within the interval drawn around it.
        var curve = main.Algorithms.Single(a => a.Name == IclAlgorithms.Averaging);
        for (var k = 1; k <= main.MaxK; k++)
        {
            Assert.Equal(curve.Mse[k], main.Model.Mse[k], 12);
            Assert.True(main.Model.Interval[k]!.Contains(main.Model.Mse[k]));
        }
    }

    [Fact]
    public void Shifted_conditions_keep_the_functions_and_longer_prompts_only_fit_the_context()
    {
        var zero = IclAlgorithms.Closed([0.1])[0];
        var report = Run(Imitating(zero), context: 10 * (Task.Dimension + 2) + 1 + 3 * (Task.Dimension + 2));
        Assert.Equal([IclRegressionEvaluation.InDistribution, IclRegressionEvaluation.NoisyY, IclRegressionEvaluation.ScaledX, IclRegressionEvaluation.LongerPrompts],
            report.Conditions.Select(c => c.Name));
        Assert.Equal(12, report.Conditions[^1].MaxK); // 13 pairs fit: 10 trained + 3
        // The zero predictor's error is the targets' second moment: more noise raises it, so does scaling x.
        var mse = report.Conditions.ToDictionary(c => c.Name, c => c.Model.Mse.Average());
        Assert.True(mse[IclRegressionEvaluation.NoisyY] > mse[IclRegressionEvaluation.InDistribution]);
        Assert.True(mse[IclRegressionEvaluation.ScaledX] > 2 * mse[IclRegressionEvaluation.InDistribution]);
        // Without room in the context there is no longer-prompt condition.
        Assert.DoesNotContain(Run(Imitating(zero), context: 10 * (Task.Dimension + 2) + 1).Conditions, c => c.Name == IclRegressionEvaluation.LongerPrompts);
    }

    [Fact]
    public void One_gradient_step_is_eta_times_averaging_and_many_steps_reach_least_squares()
    {
        var random = new Random(3);
        double G() => Math.Sqrt(-2 * Math.Log(1 - random.NextDouble())) * Math.Cos(2 * Math.PI * random.NextDouble());
        var xs = Enumerable.Range(0, 12).Select(_ => Enumerable.Range(0, 3).Select(_ => G()).ToArray()).ToArray();
        var ys = xs.Select(x => 0.5 * x[0] - x[1] + 0.1 * G()).ToArray();
        var q = new[] { 0.3, -0.2, 1.1 };
        Assert.Equal(0.7 * IclAlgorithms.PredictAveraging(xs, ys, q), IclAlgorithms.GradientDescent(1, 0.7).Predict(xs, ys, q), 12);
        Assert.Equal(RegressionBaselines.PredictLeastSquares(xs, ys, q, 0), IclAlgorithms.GradientDescent(2000, 0.5).Predict(xs, ys, q), 8);
        // Tuning picks a stable step size: on these prompts a huge one diverges.
        var prompts = RegressionBaselineTests.Sequences(16, 3, 10, 0.1, 9);
        var tuned = IclAlgorithms.TuneGradientDescent(prompts, [1, 5], 9, [0.1, 0.5, 50]);
        Assert.All(tuned, t => Assert.NotEqual(50, t.StepSize));
    }

    [Fact]
    public void Bootstrap_intervals_cover_the_mean_and_narrow_with_more_prompts()
    {
        var random = new Random(11);
        double[] Values(int n) => Enumerable.Range(0, n).Select(_ => random.NextDouble()).ToArray();
        var options = new BootstrapOptions(Samples: 500, Seed: 2);
        var (meanSmall, small, _) = IclAnalysis.MeanWithInterval(Values(20), IclAnalysis.Resamples(20, options), 0.95);
        var (meanLarge, large, count) = IclAnalysis.MeanWithInterval(Values(500), IclAnalysis.Resamples(500, options), 0.95);
        Assert.True(small!.Contains(meanSmall) && large!.Contains(meanLarge));
        Assert.True(large.High - large.Low < (small.High - small.Low) / 2);
        Assert.Equal(500, count);
        // Values that are not there (NaN: not predicted) are left out, not counted as errors.
        var (mean, _, n) = IclAnalysis.MeanWithInterval([1, double.NaN, 3], IclAnalysis.Resamples(3, options), 0.95);
        Assert.Equal(2, mean, 12);
        Assert.Equal(2, n);
    }
}

/// <summary>Scoring windows start on timestep boundaries, like training rows, and score every position once.</summary>
public class ScoringWindowTests
{
    [Fact]
    public void Windows_start_on_timestep_boundaries_and_score_each_position_once()
    {
        var builder = new SequenceBuilder(VocabularyLayout.Default, 64, 4);
        // 8-token timesteps (6 observation values, separator, action): 63, where the old cut started the second window, is mid-timestep.
        var episode = new Episode("icl", Enumerable.Range(0, 40).Select(i =>
            new Timestep(new Observation(Continuous: [0.1f * (i % 7), 0.2f, 0.3f, 0.4f, 0.5f, 0.6f]), ActionValue.OfContinuous(0.01f * i))).ToList());
        var seq = builder.Build(episode);
        var starts = Enumerable.Range(0, seq.UnitCount).Select(seq.UnitStart).ToHashSet();
        var windows = Generalist.Evaluation.Scoring.SequenceScorer.Windows(seq, 64);
        Assert.True(windows.Count > 4);
        Assert.All(windows, w => Assert.Contains(w.Start, starts));
        var scored = new int[seq.Length];
        foreach (var (start, length, first) in windows)
            for (var j = Math.Max(start + 1, first); j < start + length; j++) scored[j]++;
        Assert.Equal(0, scored[0]);
        Assert.All(scored.Skip(1), n => Assert.Equal(1, n));
        // The old cut (every L - 1 positions) would have started the second window mid-timestep.
        Assert.DoesNotContain(63, starts);
    }

    [Fact]
    public void A_timestep_longer_than_the_window_still_gets_every_position_scored()
    {
        var builder = new SequenceBuilder(VocabularyLayout.Default, 16, 4);
        var episode = new Episode("icl", Enumerable.Range(0, 3).Select(i =>
            new Timestep(new Observation(Continuous: Enumerable.Range(0, 20).Select(j => 0.01f * j).ToArray()), ActionValue.OfContinuous(0.1f))).ToList());
        var seq = builder.Build(episode);
        var scored = new int[seq.Length];
        foreach (var (start, length, first) in Generalist.Evaluation.Scoring.SequenceScorer.Windows(seq, 16))
            for (var j = Math.Max(start + 1, first); j < start + length; j++) scored[j]++;
        Assert.All(scored.Skip(1), n => Assert.Equal(1, n));
    }
}

/// <summary>The MovieLens curve's baselines see the same ratings the model had in context.</summary>
public class RatingCurveTests
{
    [Fact]
    public void Baselines_use_exactly_the_ratings_in_context_and_buckets_follow_their_count()
    {
        // Training: item 0 is rated 5, item 1 is rated 1 by everyone.
        var train = Enumerable.Range(0, 50).SelectMany(u => new[] { new Rating(u, 0, 5), new Rating(u, 1, 1) }).ToList();
        // A held-out user who rates everything 3 and, with 2 ratings in context, is asked about item 0 again.
        var queries = new List<RatingQuery>
        {
            new(100, 0, 3, 3, []),
            new(100, 0, 3, 3, [(0, 3), (1, 3)]),
            new(101, 1, 1, 2, [(1, 1)]),
        };
        var curve = RatingCurve.Evaluate(train, queries, new BootstrapOptions(Samples: 50, Seed: 1), regularization: 0);
        Assert.Equal(["0", "1", "2-3"], curve.Buckets.Select(b => b.Label));
        var user = curve.Series.Single(s => s.Name == RatingBaselines.UserMean);
        Assert.Equal(Math.Abs(3 - 3.0), user.Rmse[2], 12);       // mean of the two 3s
        Assert.Equal(Math.Abs(3 - 3.0), user.Rmse[0], 12);       // no context: the global mean, 3
        var item = curve.Series.Single(s => s.Name == RatingBaselines.ItemMean);
        Assert.Equal(2, item.Rmse[0], 12);                       // item 0's training mean is 5
        // With no shrinkage the user bias on context [(item 0: 3), (item 1: 3)] is ((3-5) + (3-1)) / 2 = 0: prediction 5.
        var bias = curve.Series.Single(s => s.Name == RatingBaselines.UserItemBias);
        Assert.Equal(2, bias.Rmse[2], 9);
        Assert.Equal(1, curve.Series.Single(s => s.Name == "model").Rmse[1], 12);
        Assert.Equal([1, 1, 1], curve.Count);
    }
}

/// <summary>The probes read what features encode linearly, on prompts other than the ones they were fitted on.</summary>
public class ProbeFitTests
{
    [Fact]
    public void A_linearly_encoded_target_is_read_back_and_noise_features_give_no_fit()
    {
        var random = new Random(4);
        double G() => Math.Sqrt(-2 * Math.Log(1 - random.NextDouble())) * Math.Cos(2 * Math.PI * random.NextDouble());
        const int prompts = 40, ks = 6, c = 8;
        var targets = new double[]?[prompts][];
        var encoded = new float[prompts][][];
        var noise = new float[prompts][][];
        for (var p = 0; p < prompts; p++)
        {
            targets[p] = new double[]?[ks];
            encoded[p] = new float[ks][];
            noise[p] = new float[ks][];
            for (var k = 0; k < ks; k++)
            {
                var y = new[] { G(), G() };
                targets[p][k] = k == 0 ? null : y;
                // Features: a fixed linear mixing of the target plus 6 distractor coordinates.
                encoded[p][k] = Enumerable.Range(0, c).Select(j => (float)(j < 2 ? y[0] * (j + 1) - y[1] : j == 2 ? y[1] : G())).ToArray();
                noise[p][k] = Enumerable.Range(0, c).Select(_ => (float)G()).ToArray();
            }
        }
        var (r2, train, test) = IclProbes.Fit(encoded, targets, 28, 1e-3);
        Assert.True(r2 > 0.99, $"encoded R^2 {r2}");
        Assert.Equal(28 * 5, train);
        Assert.Equal(12 * 5, test);
        var (none, _, _) = IclProbes.Fit(noise, targets, 28, 1e-3);
        Assert.True(none < 0.2, $"noise R^2 {none}");
    }

    [Fact]
    public void Probe_targets_are_the_in_context_quantities()
    {
        var prompts = RegressionBaselineTests.Sequences(3, 2, 6, 0, 1);
        var targets = IclProbes.Targets(prompts, new Dictionary<string, double> { ["gd_1"] = 0.5 }, new ProbeOptions());
        Assert.Equal([IclProbes.WOls, IclProbes.XTy, IclProbes.RidgeTarget, "gd_1_w"], targets.Select(t => t.Name));
        var p = prompts[0];
        Assert.Null(targets[0].Values[0][0]);
        // Noiseless with k = 3 > d = 2: w_OLS is the true w, so it predicts y exactly.
        var w = targets[0].Values[0][3]!;
        Assert.Equal(p.Y[4], w[0] * p.X[4][0] + w[1] * p.X[4][1], 9);
        var xty = targets[1].Values[0][2]!;
        Assert.Equal(p.X[0][1] * p.Y[0] + p.X[1][1] * p.Y[1], xty[1], 12);
        // One GD step from 0 is eta/k X^T y.
        Assert.Equal(0.5 / 2 * xty[1], targets[3].Values[0][2]![1], 12);
    }
}
