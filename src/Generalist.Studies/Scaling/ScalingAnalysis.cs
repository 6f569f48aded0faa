using Generalist.Evaluation.Statistics;

namespace Generalist.Studies.Scaling;

/// <summary>Every fit for one task. A fit that the data cannot support is null with the reason in Notes.</summary>
public sealed record TaskScalingFit(
    string Task,
    int Points,
    int Sizes,
    int TokenBudgets,
    double? LossVsParamsTokens,
    PowerLawEstimate? LossVsParams,
    PowerLawEstimate? LossVsFlops,
    JointLawEstimate? Joint,
    SigmoidEstimate? ScoreVsLoss,
    double? ExtrapolatedScore,
    Interval? ExtrapolatedScoreInterval,
    IReadOnlyList<string> Notes);

public sealed record ScalingAnalysisResult(IReadOnlyList<TaskScalingFit> Tasks, BootstrapOptions Bootstrap, double ExtrapolationFactor);

/// <summary>
/// Fits per task: L(N) = E + A N^-alpha (on the rows of the largest token budget when several
/// exist), L(C) over training FLOPs C = 6ND, L(N, D) when at least 2 sizes and 2 token budgets
/// exist, and score vs loss as a sigmoid when scores are present; extrapolates to 10x the largest N.
/// </summary>
public static class ScalingAnalysis
{
    /// <summary>
    /// Fewest normalized-score points the measured scores must span for a score-vs-loss sigmoid:
    /// scores that all sit at one level (e.g. every size still at the random policy's) determine
    /// neither the midpoint nor the slope, and a fit would report an arbitrary step.
    /// </summary>
    public const double MinScoreSpread = 10.0;

    public static ScalingAnalysisResult Analyze(IReadOnlyList<ScalingRow> rows, BootstrapOptions? bootstrap = null, double extrapolationFactor = 10)
    {
        bootstrap ??= new BootstrapOptions();
        bootstrap.Validate();
        var tasks = rows.GroupBy(r => r.Task).OrderBy(g => g.Key, StringComparer.Ordinal)
            .Select(g => AnalyzeTask(g.Key, g.ToList(), bootstrap, extrapolationFactor)).ToList();
        return new ScalingAnalysisResult(tasks, bootstrap, extrapolationFactor);
    }

    private static TaskScalingFit AnalyzeTask(string task, List<ScalingRow> rows, BootstrapOptions bootstrap, double factor)
    {
        var notes = new List<string>();
        var sizes = rows.Select(r => r.Params).Distinct().Count();
        var budgets = rows.Select(r => r.Tokens).Distinct().Count();

        // With several token budgets, L(N) is fitted at the largest budget so D is held fixed.
        var maxTokens = rows.Max(r => r.Tokens);
        var atMax = rows.Where(r => r.Tokens == maxTokens).ToList();
        var forN = budgets > 1 && atMax.Select(r => r.Params).Distinct().Count() >= 2 && atMax.Count >= 3 ? atMax : rows;
        if (budgets > 1 && forN == rows) notes.Add("L(N) fitted on all token budgets together: the largest budget has too few sizes");
        var lossVsParams = Try(() => ScalingLaws.EstimatePowerLaw(forN.Select(r => r.Params).ToList(), forN.Select(r => r.Loss).ToList(), bootstrap, factor), "L(N)", notes);
        var lossVsFlops = Try(() => ScalingLaws.EstimatePowerLaw(rows.Select(r => r.Flops).ToList(), rows.Select(r => r.Loss).ToList(), bootstrap, factor), "L(C)", notes);
        if (lossVsParams is not null)
            NoteUnfixedExponent(notes, "L(N)", "alpha", lossVsParams.Fit.Alpha, lossVsParams.AlphaInterval,
                $"losses {forN.Min(r => r.Loss):0.####}..{forN.Max(r => r.Loss):0.####} over {Math.Log10(forN.Max(r => r.Params) / forN.Min(r => r.Params)):0.##} decades of N");
        if (lossVsFlops is not null)
            NoteUnfixedExponent(notes, "L(C)", "gamma", lossVsFlops.Fit.Alpha, lossVsFlops.AlphaInterval, null);

        JointLawEstimate? joint = null;
        if (sizes >= 2 && budgets >= 2)
            joint = Try(() => ScalingLaws.EstimateJointLaw(rows.Select(r => r.Params).ToList(), rows.Select(r => r.Tokens).ToList(), rows.Select(r => r.Loss).ToList(),
                bootstrap with { Samples = Math.Min(bootstrap.Samples, 300) }), "L(N, D)", notes);
        if (joint is not null)
        {
            NoteUnfixedExponent(notes, "L(N, D)", "alpha", joint.Fit.Alpha, joint.AlphaInterval, null);
            NoteUnfixedExponent(notes, "L(N, D)", "beta", joint.Fit.Beta, joint.BetaInterval,
                $"{budgets} token budgets; the D term needs more budgets or a wider spread to be measured");
        }

        SigmoidEstimate? sigmoid = null;
        double? extrapolatedScore = null;
        Interval? extrapolatedScoreInterval = null;
        var scored = rows.Where(r => r.Score is not null).ToList();
        var spread = scored.Count > 0 ? scored.Max(r => r.Score!.Value) - scored.Min(r => r.Score!.Value) : 0;
        if (scored.Count > 0 && spread < MinScoreSpread)
            notes.Add($"score(L) not fitted: the scores span only {spread:0.#} points ({scored.Min(r => r.Score!.Value):0.#} to {scored.Max(r => r.Score!.Value):0.#}); " +
                      $"a sigmoid needs scores that move between random (0) and expert (100) by at least {MinScoreSpread:0}");
        else if (scored.Count > 0)
        {
            sigmoid = Try(() => SigmoidFitter.Estimate(scored.Select(r => r.Loss).ToList(), scored.Select(r => r.Score!.Value).ToList(),
                bootstrap with { Samples = Math.Min(bootstrap.Samples, 500) }), "score(L)", notes);
            if (sigmoid is not null && lossVsParams is not null)
            {
                extrapolatedScore = sigmoid.Fit.Predict(lossVsParams.ExtrapolatedLoss);
                // The sigmoid is monotone in the loss, so the loss interval's ends map to the score interval's ends.
                if (lossVsParams.ExtrapolatedLossInterval is { } li)
                {
                    double a = sigmoid.Fit.Predict(li.Low), b = sigmoid.Fit.Predict(li.High);
                    extrapolatedScoreInterval = new Interval(Math.Min(a, b), Math.Max(a, b));
                }
            }
        }
        return new TaskScalingFit(task, rows.Count, sizes, budgets, forN == atMax ? maxTokens : null, lossVsParams, lossVsFlops, joint, sigmoid, extrapolatedScore, extrapolatedScoreInterval, notes);
    }

    /// <summary>
    /// Notes an exponent that sits at the fitter's bound or whose bootstrap interval reaches it:
    /// the value printed is then a limit of the search, not a measurement, and readers must know.
    /// </summary>
    private static void NoteUnfixedExponent(List<string> notes, string law, string name, double estimate, Interval? interval, string? context)
    {
        const double slack = 1e-6;
        const double bound = ScalingLaws.MaxExponent;
        var why = estimate >= bound - slack ? $"the {name} estimate sits at the fitter's bound {bound:0}, so the data do not determine {name}"
            : interval is { } i && i.High >= bound - slack ? $"the {name} interval reaches the fitter's bound {bound:0}, so the data give {name} only a lower limit ({name} >= {i.Low:0.###})"
            : null;
        if (why is null) return;
        notes.Add($"{law}: {why}" + (context is null ? "" : $"; {context}"));
    }

    private static T? Try<T>(Func<T> fit, string what, List<string> notes) where T : class
    {
        try
        {
            return fit();
        }
        catch (ArgumentException e)
        {
            notes.Add($"{what} not fitted: {e.Message}");
            return null;
        }
    }
}
