using Generalist.Datasets;
using Generalist.Datasets.Sets;
using Generalist.Envs;
using Generalist.Evaluation.InContext;
using Generalist.Evaluation.Scoring;
using Generalist.Evaluation.Statistics;
using Generalist.Model;
using Generalist.Tokenizers;
using static TorchSharp.torch;
using Generalist.Episodes;

namespace Generalist.Evaluation;

/// <summary>Per-family evaluations of one loaded model; each returns its metrics by name.</summary>
internal sealed class TaskEvaluations(GeneralistModel model, SequenceBuilder builder, EvaluatorOptions options, Device device)
{
    private readonly VocabularyLayout _vocab = builder.Vocab;

    public static List<Episode> Take(IEpisodeSource source, int count) => HeldOutSample.Spread(source, count);

    private List<ScoredSequence> Score(IReadOnlyList<Episode> episodes, Func<TokenKind, (int, int)?>? ranges = null, int maxTokens = int.MaxValue) =>
        SequenceScorer.Score(model, episodes.Select(e => builder.Build(e)).ToList(), ranges, options.ScoreBatch, device, maxTokens);

    /// <summary>Teacher-forced held-out loss over text and action targets: every family has it.</summary>
    public Dictionary<string, double> HeldOut(TaskData task, SuiteBudget budget)
    {
        var scored = Score(Take(task.HeldOut, budget.HeldOutSequences), maxTokens: budget.MaxScoredTokens);
        var metrics = new Dictionary<string, double> { ["loss"] = SequenceMetrics.HeldOutLoss(scored), ["sequences"] = scored.Count };
        if (task.Family == TaskFamily.Language) metrics["bits_per_byte"] = SequenceMetrics.BitsPerByte(scored, builder.Text);
        if (task.Family == TaskFamily.VisionLanguage) metrics["token_accuracy"] = SequenceMetrics.TokenAccuracy(scored);
        return metrics;
    }

    public void Captions(TaskData task, SuiteBudget budget, Dictionary<string, double> metrics, List<string> examples)
    {
        var results = CaptionDecoder.Decode(model, builder, Take(task.HeldOut, budget.Captions), options.ScoreBatch, device);
        metrics["exact_match"] = results.Count(r => r.ExactMatch) / (double)results.Count;
        metrics["captions"] = results.Count;
        examples.AddRange(results.Take(5).Select(r => $"{task.Name}: \"{r.Decoded}\" (reference \"{r.Reference}\")"));
    }

    /// <summary>The model's prediction for every pair of each episode: the expected bin centre at its action (NaN where not predicted).</summary>
    public IReadOnlyList<double[]> RegressionPredictions(IReadOnlyList<Episode> episodes) =>
        SequenceMetrics.RegressionPredictions(Score(episodes, k => k == TokenKind.ActionContinuous ? (_vocab.ContinuousOffset, _vocab.ContinuousBins) : null));

    /// <summary>
    /// The full analysis (<see cref="IclRegressionEvaluation"/>): every algorithm, agreement and the
    /// shifted prompts, on the task as the run trained it (<paramref name="trained"/>, seed <paramref name="seed"/>).
    /// </summary>
    public IclReport RegressionAnalysis(long seed, IclRegressionOptions trained, SuiteBudget budget, Dictionary<string, double> metrics, BootstrapOptions bootstrap)
    {
        var report = IclRegressionEvaluation.Run(seed, trained, model.Config.ContextLength, e => builder.Build(e).Length, RegressionPredictions,
            new IclEvaluationOptions(Prompts: budget.RegressionSequences, TuningPrompts: Math.Min(64, budget.RegressionSequences)) { Bootstrap = bootstrap });
        var main = report.Conditions[0];
        // The figures the done-when of in-context learning reads: k = 2d against least squares, and the zero predictor.
        var k2d = Math.Min(2 * trained.Dimension, main.MaxK);
        metrics["icl_k2d"] = k2d;
        metrics["icl_model_mse_k2d"] = main.Model.Mse[k2d];
        if (main.Model.Interval[k2d] is { } ci) (metrics["icl_model_mse_k2d_ci_low"], metrics["icl_model_mse_k2d_ci_high"]) = (ci.Low, ci.High);
        foreach (var a in main.Algorithms) metrics[$"icl_{a.Name}_mse_k2d"] = a.Mse[k2d];
        return report;
    }

    /// <summary>MSE vs k for the model and the four baselines on the same held-out sequences.</summary>
    public (ErrorCurve Model, IReadOnlyList<ErrorCurve> Baselines) Regression(TaskData task, SuiteBudget budget, Dictionary<string, double> metrics)
    {
        var episodes = Take(task.HeldOut, budget.RegressionSequences);
        var scored = Score(episodes, k => k == TokenKind.ActionContinuous ? (_vocab.ContinuousOffset, _vocab.ContinuousBins) : null);
        var (curve, baselines) = SequenceMetrics.InContextRegression(scored, episodes);
        for (var k = 0; k < curve.MeanSquaredError.Length; k++)
        {
            metrics[$"mse_k{k}"] = curve.MeanSquaredError[k];
            foreach (var b in baselines) metrics[$"{b.Name}_mse_k{k}"] = b.MeanSquaredError[k];
        }
        metrics["mse"] = curve.MeanSquaredError[^1];
        return (curve, baselines);
    }

    /// <summary>
    /// RMSE of each held-out user's last rating. The model's prediction is the expected rating under
    /// its distribution over the ten half-star actions (the RMSE-optimal point estimate). Baselines
    /// see the training users and the held-out users' earlier ratings. The episodes carry no movie
    /// id, so an item is the movie's (genres, year) signature as the model sees it.
    /// </summary>
    public (IReadOnlyList<BaselineRmse> Baselines, RatingCurveReport Curve) MovieLens(TaskData task, SuiteBudget budget, Dictionary<string, double> metrics)
    {
        var held = Take(task.HeldOut, Math.Max(budget.RegressionSequences, 32));
        var scored = Score(held, k => k == TokenKind.ActionDiscrete ? (_vocab.DiscreteOffset, 10) : null);
        var predictions = new List<double>();
        var targets = new List<double>();
        for (var i = 0; i < held.Count; i++)
        {
            var last = SequenceMetrics.FirstActionPositions(scored[i].Sequence).LastOrDefault(-1);
            if (last < 0 || !scored[i].RangeLogProbs.TryGetValue(last, out var lp)) continue;
            predictions.Add(SequenceMetrics.Expectation(lp, MovieLensSet.ActionToRating));
            targets.Add(MovieLensSet.ActionToRating(held[i].Timesteps[^1].Action!.Discrete![0]));
        }
        metrics["rmse"] = RatingBaselines.Rmse(predictions, targets);
        metrics["users"] = predictions.Count;
        var items = new Dictionary<string, int>();
        int Item(Timestep t) { var key = string.Join(",", t.Observation.Discrete ?? []) + "|" + string.Join(",", t.Observation.Continuous ?? []); return items.TryGetValue(key, out var id) ? id : items[key] = items.Count; }
        Rating ToRating(int user, Timestep t) => new(user, Item(t), MovieLensSet.ActionToRating(t.Action!.Discrete![0]));
        var train = new List<Rating>();
        for (var u = 0; u < task.Train.Count; u++) train.AddRange(task.Train.Get(u).Timesteps.Select(t => ToRating(u, t)));
        var heldRatings = new List<Rating>();
        for (var i = 0; i < held.Count; i++)
        {
            var user = task.Train.Count + i;
            train.AddRange(held[i].Timesteps.SkipLast(1).Select(t => ToRating(user, t)));
            heldRatings.Add(ToRating(user, held[i].Timesteps[^1]));
        }
        var baselines = RatingBaselines.Evaluate(train, heldRatings);
        foreach (var b in baselines) metrics[$"{b.Name}_rmse"] = b.Rmse;
        // Every rating of every held-out user, against the number of that user's ratings in the model's window.
        var trainOnly = new List<Rating>();
        for (var u = 0; u < task.Train.Count; u++) trainOnly.AddRange(task.Train.Get(u).Timesteps.Select(t => ToRating(u, t)));
        var queries = new List<RatingQuery>();
        for (var i = 0; i < held.Count; i++)
        {
            var seq = scored[i].Sequence;
            var actions = SequenceMetrics.FirstActionPositions(seq);
            var windows = SequenceScorer.Windows(seq, model.Config.ContextLength);
            for (var t = 0; t < actions.Count && t < held[i].Timesteps.Count; t++)
            {
                var j = actions[t];
                if (!scored[i].RangeLogProbs.TryGetValue(j, out var lp)) continue;
                var window = windows.First(w => j >= w.FirstScored && j < w.Start + w.Length);
                var first = actions.FindIndex(a => a >= window.Start);
                var context = Enumerable.Range(first, t - first).Select(c => ToRating(0, held[i].Timesteps[c])).Select(r => (r.Item, r.Value)).ToList();
                var target = ToRating(task.Train.Count + i, held[i].Timesteps[t]);
                queries.Add(new RatingQuery(target.User, target.Item, target.Value, SequenceMetrics.Expectation(lp, MovieLensSet.ActionToRating), context));
            }
        }
        var curve = RatingCurve.Evaluate(trainOnly, queries, options.Bootstrap with { Samples = 500 });
        metrics["rating_queries"] = queries.Count;
        metrics["max_ratings_in_context"] = queries.Max(q => q.Context.Count);
        return (baselines, curve);
    }

    /// <summary>
    /// Online rollouts of the model, the scripted expert and the random policy on the same seeds;
    /// the model is prompted with the end of a held-out expert demonstration. Besides returns and
    /// the normalized score (with its bootstrap interval over episodes), the model's rollouts are
    /// diagnosed against the expert and, for a trained task with continuous observations, against
    /// the training data's observation bins (<see cref="ControlDiagnostics"/>).
    /// </summary>
    public ControlOutcome Control(TaskData task, RunContext run, int episodes, long seed, ActionDecoding decoding, bool trainedOn,
        Dictionary<string, double> metrics, IProgress<int>? progress)
    {
        IEnvironment Create() => run.CreateEnvironment(task.Name);
        var batch = Math.Min(options.RolloutBatch, episodes);
        var envName = task.EnvName ?? task.Name;
        IReadOnlyList<Episode> Collect(Func<int, IPolicy> policy)
        {
            using var envs = VectorEnv.Create(Create, batch);
            return Rollouts.CollectBatched(envs, policy, episodes, seed, task.Name);
        }
        var expert = RolloutSummary.Of(Collect(_ => run.CreateExpert(envName)));
        var random = RolloutSummary.Of(Collect(_ => new RandomPolicy(seed)));
        var demonstration = task.HeldOut.Get(0);
        // Pixel and text tasks have no continuous observations; reading their training images would be wasted.
        var hasContinuous = demonstration.Timesteps.Any(t => t.Observation.Continuous is { Length: > 0 });
        var diagnostics = new ControlDiagnostics(run.CreateExpert(envName), episodes, trainedOn && hasContinuous ? TrainingBins.Of(task.Train) : null);
        // Pixel tasks also keep the first episode's frames, for the report's filmstrip.
        var filmstrip = demonstration.Timesteps.Any(t => t.Observation.Image is not null) ? new FilmstripRecorder(diagnostics) : null;
        var model_ = ModelRollouts.Run(model, builder, Create, demonstration, episodes, seed, decoding, batch, device, progress, (IRolloutObserver?)filmstrip ?? diagnostics);
        metrics["return"] = model_.Mean;
        metrics["return_std"] = model_.Std;
        metrics["episode_length"] = model_.Lengths.Average();
        metrics["expert_return"] = expert.MeanReturn;
        metrics["random_return"] = random.MeanReturn;
        metrics["episodes"] = episodes;
        var score = NormalizedScore.Compute(model_.Mean, random.MeanReturn, expert.MeanReturn);
        metrics["normalized_score"] = score;
        var episodeScores = EpisodeScores.Normalize(model_.Returns, random.MeanReturn, expert.MeanReturn);
        if (EpisodeScores.MeanInterval(episodeScores, options.Bootstrap) is { } interval)
            (metrics["normalized_score_ci_low"], metrics["normalized_score_ci_high"]) = (interval.Low, interval.High);
        diagnostics.AddTo(metrics);
        return new ControlOutcome(score, episodeScores, filmstrip?.Frames ?? []);
    }
}

/// <summary>A control task's normalized score and the per-episode scores it is the mean of.</summary>
internal sealed record ControlOutcome(double Score, IReadOnlyList<double> EpisodeScores, IReadOnlyList<FilmstripFrame> Filmstrip);

/// <summary>The run-specific factories (environment, expert) for one evaluation.</summary>
internal sealed record RunContext(Func<string, IEnvironment> CreateEnvironment, Func<string, IPolicy> CreateExpert);
