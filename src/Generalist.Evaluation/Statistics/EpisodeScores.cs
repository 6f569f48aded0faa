namespace Generalist.Evaluation.Statistics;

/// <summary>
/// Expert-normalized scores per episode and their aggregates with bootstrap intervals, as in
/// Agarwal et al. 2021 ("Deep RL at the edge of the statistical precipice", rliable) and JAT:
/// an episode scores 100·(R_i − R_random)/(R_expert − R_random) with the task's mean expert and
/// random returns held fixed, so a task's score is the mean of its episodes' scores. The
/// intervals cover the model's episode-to-episode variation only, not the references'.
/// </summary>
public static class EpisodeScores
{
    public static double[] Normalize(IEnumerable<double> returns, double randomReturn, double expertReturn) =>
        returns.Select(r => NormalizedScore.Compute(r, randomReturn, expertReturn)).ToArray();

    /// <summary>
    /// The interquartile mean: the mean of the middle 50% after dropping floor(n/4) values from each
    /// end (scipy.stats.trim_mean(x, 0.25), which rliable uses). Robust to outlying episodes, yet
    /// less noisy than the median.
    /// </summary>
    public static double InterquartileMean(IReadOnlyList<double> values)
    {
        if (values.Count == 0) throw new ArgumentException("interquartile mean of no values");
        var sorted = values.OrderBy(v => v).ToArray();
        var cut = sorted.Length / 4;
        return sorted[cut..^cut].Average();
    }

    /// <summary>Percentile bootstrap interval of the mean of one task's episode scores; null below 2 episodes.</summary>
    public static Interval? MeanInterval(IReadOnlyList<double> scores, BootstrapOptions options) =>
        Stratified([scores], options).Mean;

    /// <summary>
    /// Stratified percentile bootstrap across tasks: each resample redraws every task's episodes
    /// with replacement within that task, then takes the mean of the task means and the IQM of all
    /// episode scores pooled (each task weighs its episode count). Seeded, so it repeats exactly.
    /// Null intervals when no task has at least 2 episodes.
    /// </summary>
    public static (Interval? Mean, Interval? Iqm) Stratified(IReadOnlyList<IReadOnlyList<double>> perTask, BootstrapOptions options)
    {
        options.Validate();
        if (perTask.Count == 0 || perTask.All(t => t.Count < 2)) return (null, null);
        var random = new Random(unchecked((int)options.Seed));
        var means = new double[options.Samples];
        var iqms = new double[options.Samples];
        var pooled = new double[perTask.Sum(t => t.Count)];
        for (var s = 0; s < options.Samples; s++)
        {
            var at = 0;
            double sumOfMeans = 0;
            foreach (var task in perTask)
            {
                double sum = 0;
                for (var i = 0; i < task.Count; i++) sum += pooled[at++] = task[random.Next(task.Count)];
                sumOfMeans += sum / task.Count;
            }
            means[s] = sumOfMeans / perTask.Count;
            iqms[s] = InterquartileMean(pooled);
        }
        return (Percentiles.IntervalOf(means, options.Confidence), Percentiles.IntervalOf(iqms, options.Confidence));
    }
}
