using Generalist.Envs;
using Generalist.Tokenizers;
using Generalist.Episodes;

namespace Generalist.Evaluation.Scoring;

/// <summary>
/// Diagnostics of the states the model's own rollouts visit (on-policy, so they show where
/// closed-loop behaviour leaves the expert's path):
/// <list type="bullet">
/// <item>expert_agreement: the fraction of visited states where the model's action equals the
/// scripted expert's action on that same state. Continuous actions agree when every dimension is
/// within <see cref="Tolerance"/> action units; action_abs_error is the mean |model − expert| over
/// states and dimensions. States where the expert has no answer (it throws
/// InvalidOperationException, e.g. Sokoban's solution replay past its end) are not counted.</item>
/// <item>unseen_bin_states: the fraction of visited states with a continuous observation value whose
/// bin, in that dimension, never occurs in the task's training episodes (null = not computed).</item>
/// </list>
/// Counts are kept per episode so that a batch replayed one copy at a time counts once.
/// </summary>
public sealed class ControlDiagnostics(IPolicy expert, int episodes, TrainingBins? trainingBins) : IRolloutObserver
{
    /// <summary>Agreement tolerance for continuous actions: 0.1 action units is 5% of the [-1, 1] range (0.2 N·m on the pendulum's ±2 N·m torque).</summary>
    public const float Tolerance = 0.1f;

    private readonly Counts[] _counts = Enumerable.Range(0, episodes).Select(_ => new Counts()).ToArray();

    private sealed class Counts
    {
        public int States, Queried, Agreed, Unseen, ErrorTerms;
        public double AbsoluteError;
    }

    public void BeginEpisode(int episode) => _counts[episode] = new Counts();

    public void Observe(int episode, Observation observation, IEnvironment env, ActionValue action)
    {
        var c = _counts[episode];
        c.States++;
        if (trainingBins?.HasUnseen(observation) == true) c.Unseen++;
        ActionValue target;
        try
        {
            target = expert.Act(observation, env);
        }
        catch (InvalidOperationException)
        {
            return;
        }
        c.Queried++;
        if (action.Continuous is { } values && target.Continuous is { } expected)
        {
            var errors = values.Zip(expected, (v, e) => Math.Abs(v - e)).ToArray();
            c.AbsoluteError += errors.Sum();
            c.ErrorTerms += errors.Length;
            if (errors.Length == expected.Length && errors.All(e => e <= Tolerance)) c.Agreed++;
        }
        else if ((action.Discrete ?? []).SequenceEqual(target.Discrete ?? [])) c.Agreed++;
    }

    /// <summary>Adds the diagnostics to a task's metrics (pooled over every visited state of every episode).</summary>
    public void AddTo(IDictionary<string, double> metrics)
    {
        var states = _counts.Sum(c => c.States);
        var queried = _counts.Sum(c => c.Queried);
        metrics["visited_states"] = states;
        metrics["expert_queried_states"] = queried;
        if (queried > 0) metrics["expert_agreement"] = _counts.Sum(c => c.Agreed) / (double)queried;
        var terms = _counts.Sum(c => c.ErrorTerms);
        if (terms > 0) metrics["action_abs_error"] = _counts.Sum(c => c.AbsoluteError) / terms;
        if (trainingBins is not null && states > 0) metrics["unseen_bin_states"] = _counts.Sum(c => c.Unseen) / (double)states;
    }
}

/// <summary>
/// Which bin of each continuous observation dimension the training episodes contain (the bin the
/// tokenizer gives the value: mu-law companded, 1024 uniform bins).
/// </summary>
public sealed class TrainingBins
{
    private readonly List<bool[]> _seen = [];

    /// <summary>The bins of every training episode; null when the observations carry no continuous values.</summary>
    public static TrainingBins? Of(IEpisodeSource train)
    {
        var bins = new TrainingBins();
        for (var i = 0; i < train.Count; i++)
            foreach (var t in train.Get(i).Timesteps)
                bins.Add(t.Observation.Continuous ?? []);
        return bins._seen.Count == 0 ? null : bins;
    }

    private void Add(float[] values)
    {
        while (_seen.Count < values.Length) _seen.Add(new bool[ContinuousTokenizer.Bins]);
        for (var d = 0; d < values.Length; d++) _seen[d][BinOf(values[d])] = true;
    }

    /// <summary>Whether some dimension's bin never occurs in training (a dimension training never had counts as unseen).</summary>
    public bool HasUnseen(Observation observation)
    {
        var values = observation.Continuous ?? [];
        for (var d = 0; d < values.Length; d++)
            if (d >= _seen.Count || !_seen[d][BinOf(values[d])]) return true;
        return false;
    }

    private static int BinOf(float value) => ContinuousTokenizer.Bin(ContinuousTokenizer.Compand(value));
}
