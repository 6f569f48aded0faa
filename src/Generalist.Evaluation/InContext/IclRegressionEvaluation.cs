using Generalist.Datasets.Sets;
using Generalist.Evaluation.Statistics;
using Generalist.Episodes;

namespace Generalist.Evaluation.InContext;

/// <summary>What the in-context regression analysis runs: prompts, algorithms, shifts and intervals.</summary>
/// <param name="Prompts">Held-out prompts scored per condition.</param>
/// <param name="TuningPrompts">Other held-out prompts on which gradient descent's step size is chosen.</param>
/// <param name="OodNoise">Extra noise on y in the noisy-y condition, in units of f's standard deviation.</param>
/// <param name="OodInputScale">Factor on x in the scaled-x condition (the function and the target units stay those trained).</param>
/// <param name="LongerFactor">Prompts up to this many times the trained pairs, as far as they fit in the context.</param>
public sealed record IclEvaluationOptions(int Prompts = 256, int TuningPrompts = 64, double OodNoise = 0.5, double OodInputScale = 2.0, double LongerFactor = 2.0)
{
    public IReadOnlyList<double> RidgeLambdas { get; init; } = IclAlgorithms.DefaultRidgeLambdas;
    public IReadOnlyList<int> GdSteps { get; init; } = IclAlgorithms.DefaultGdSteps;
    public BootstrapOptions Bootstrap { get; init; } = new(Samples: 1000, Seed: 17);
}

/// <summary>
/// The in-context regression evaluation (Garg et al. 2022): on held-out prompts, the model's MSE at
/// each k beside every algorithm's (<see cref="IclAlgorithms"/>), how close the model's predictions
/// are to each algorithm's, and the same on shifted prompts: noisy y, x scaled, prompts longer than
/// trained. The model enters as a function from episodes to its predictions per pair, so this
/// runs the same with the real model and in tests.
/// </summary>
public static class IclRegressionEvaluation
{
    public const string InDistribution = "in_distribution", NoisyY = "noisy_y", ScaledX = "scaled_x", LongerPrompts = "longer_prompts";

    /// <param name="seed">The run's data seed (the held-out functions are drawn from it).</param>
    /// <param name="trained">The task as trained (from the checkpoint's config).</param>
    /// <param name="tokensPerEpisode">Tokens a tokenized episode takes (to keep longer prompts within the context).</param>
    /// <param name="contextLength">The model's context: longer prompts are only those that fit whole.</param>
    /// <param name="model">Predictions of the model for every pair of each episode (NaN where it made none).</param>
    public static IclReport Run(long seed, IclRegressionOptions trained, int contextLength, Func<Episode, int> tokensPerEpisode,
        Func<IReadOnlyList<Episode>, IReadOnlyList<double[]>> model, IclEvaluationOptions options)
    {
        var plain = IclRegressionSource.HeldOutShifted(seed, trained, trained);
        var (evaluated, tuning) = Indices(options.Prompts, options.TuningPrompts, plain.Count);
        var closed = IclAlgorithms.Closed(options.RidgeLambdas);
        var tuningPrompts = tuning.Select(i => ToSequence(plain.Get(i))).ToList();
        var gd = IclAlgorithms.TuneGradientDescent(tuningPrompts, options.GdSteps, trained.Pairs - 1);
        var algorithms = closed.Concat(gd.Select(g => g.Algorithm)).ToList();
        var conditions = new List<IclCondition>();
        void Add(string name, string description, IclRegressionOptions shifted)
        {
            var source = IclRegressionSource.HeldOutShifted(seed, trained, shifted);
            var episodes = evaluated.Select(i => source.Get(i)).ToList();
            var prompts = episodes.Select(ToSequence).ToList();
            conditions.Add(IclAnalysis.Analyse(name, description, prompts, model(episodes), algorithms, shifted.Pairs - 1, options.Bootstrap));
        }
        Add(InDistribution, "held-out functions, prompts as trained", trained);
        Add(NoisyY, FormattableString.Invariant($"y with extra Gaussian noise of {options.OodNoise} x f's standard deviation"),
            trained with { NoiseStd = trained.NoiseStd + options.OodNoise });
        Add(ScaledX, FormattableString.Invariant($"x scaled x{options.OodInputScale} (same functions, targets in the trained units, clipped to [-1, 1])"),
            trained with { InputScale = trained.InputScale * options.OodInputScale });
        // Longer prompts only as far as they fit the context whole: a window cut would hide the first pairs.
        var longer = (int)Math.Floor(trained.Pairs * options.LongerFactor);
        while (longer > trained.Pairs && tokensPerEpisode(IclRegressionSource.HeldOutShifted(seed, trained, trained with { Pairs = longer }).Get(0)) > contextLength) longer--;
        if (longer > trained.Pairs)
            Add(LongerPrompts, $"{longer} pairs per prompt ({trained.Pairs} trained)", trained with { Pairs = longer });
        return new IclReport(IclRegressionSource.TaskName, trained.Dimension, trained.Pairs, trained.Function, conditions,
            gd.ToDictionary(g => g.Algorithm.Name, g => g.StepSize), options.Bootstrap.Samples, options.Bootstrap.Confidence, options.Bootstrap.Seed);
    }

    /// <summary>
    /// Evaluated prompts spread over the held-out range, and tuning prompts between them (never the
    /// same functions). Both lists are deterministic.
    /// </summary>
    public static (int[] Evaluated, int[] Tuning) Indices(int prompts, int tuningPrompts, int count)
    {
        if (prompts < 1 || tuningPrompts < 1 || prompts + tuningPrompts > count)
            throw new ArgumentException($"prompts ({prompts}) and tuning prompts ({tuningPrompts}) must be >= 1 and together at most the {count} held-out functions");
        var evaluated = Enumerable.Range(0, prompts).Select(i => (int)((long)i * count / prompts)).ToArray();
        var taken = evaluated.ToHashSet();
        var tuning = Enumerable.Range(0, count).Where(i => !taken.Contains(i)).ToArray();
        tuning = Enumerable.Range(0, tuningPrompts).Select(i => tuning[(int)((long)i * tuning.Length / tuningPrompts)]).ToArray();
        return (evaluated, tuning);
    }

    public static RegressionSequence ToSequence(Episode e) => new(
        e.Timesteps.Select(t => t.Observation.Continuous!.Select(v => (double)v).ToArray()).ToArray(),
        e.Timesteps.Select(t => (double)t.Action!.Continuous![0]).ToArray());
}
