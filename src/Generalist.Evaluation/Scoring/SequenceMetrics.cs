using System.Text;
using Generalist.Evaluation.Statistics;
using Generalist.Tokenizers;
using Generalist.Episodes;

namespace Generalist.Evaluation.Scoring;

/// <summary>Metrics computed from teacher-forced scores of held-out sequences.</summary>
public static class SequenceMetrics
{
    /// <summary>Mean loss (nats per token) over exactly the targets the trainer's loss covers: each
    /// position's own loss flag (text, scored actions, the end of a caption), not its kind alone.</summary>
    public static double HeldOutLoss(IEnumerable<ScoredSequence> scored)
    {
        double sum = 0;
        long n = 0;
        foreach (var s in scored)
            for (var j = 0; j < s.Nats.Length; j++)
            {
                if (float.IsNaN(s.Nats[j]) || !s.Sequence.Loss(j)) continue;
                sum += s.Nats[j];
                n++;
            }
        return n == 0 ? double.NaN : sum / n;
    }

    public static double MeanNats(IEnumerable<ScoredSequence> scored, Func<TokenKind, bool> include)
    {
        double sum = 0;
        long n = 0;
        foreach (var s in scored)
        {
            var kinds = s.Sequence.Kinds;
            for (var j = 0; j < s.Nats.Length; j++)
            {
                if (float.IsNaN(s.Nats[j]) || !include(kinds[j])) continue;
                sum += s.Nats[j];
                n++;
            }
        }
        return n == 0 ? double.NaN : sum / n;
    }

    /// <summary>
    /// Bits per byte of the text targets: total nats / ln 2 / UTF-8 bytes of the predicted text
    /// (the tokens decoded together per sequence), comparable across tokenizers.
    /// </summary>
    public static double BitsPerByte(IEnumerable<ScoredSequence> scored, TextTokenizer text)
    {
        double nats = 0;
        long bytes = 0;
        foreach (var s in scored)
        {
            var kinds = s.Sequence.Kinds;
            var tokens = s.Sequence.Tokens;
            var ids = new List<int>();
            for (var j = 0; j < s.Nats.Length; j++)
            {
                if (float.IsNaN(s.Nats[j]) || kinds[j] != TokenKind.Text) continue;
                nats += s.Nats[j];
                ids.Add(tokens[j]);
            }
            if (ids.Count > 0) bytes += Encoding.UTF8.GetByteCount(text.Decode(ids.ToArray()));
        }
        return bytes == 0 ? double.NaN : nats / Math.Log(2) / bytes;
    }

    /// <summary>Fraction of text targets whose most likely token (teacher-forced) is the reference token.</summary>
    public static double TokenAccuracy(IEnumerable<ScoredSequence> scored)
    {
        long right = 0, n = 0;
        foreach (var s in scored)
        {
            var kinds = s.Sequence.Kinds;
            var tokens = s.Sequence.Tokens;
            for (var j = 0; j < s.Nats.Length; j++)
            {
                if (s.Argmax[j] < 0 || kinds[j] != TokenKind.Text) continue;
                n++;
                if (s.Argmax[j] == tokens[j]) right++;
            }
        }
        return n == 0 ? double.NaN : (double)right / n;
    }

    /// <summary>Positions of the action tokens of each timestep, in order (the first action token of timestep t).</summary>
    public static List<int> FirstActionPositions(TokenizedEpisode seq)
    {
        var list = new List<int>();
        var kinds = seq.Kinds;
        for (var j = 0; j < seq.Length; j++)
            if (kinds[j].IsAction() && (j == 0 || kinds[j - 1] == TokenKind.Separator))
                list.Add(j);
        return list;
    }

    /// <summary>Expected value of f(i) under the (renormalized) distribution given by log-probabilities.</summary>
    public static double Expectation(float[] logProbs, Func<int, double> value)
    {
        var max = logProbs.Max();
        double z = 0, e = 0;
        for (var i = 0; i < logProbs.Length; i++)
        {
            var p = Math.Exp(logProbs[i] - max);
            z += p;
            e += p * value(i);
        }
        return e / z;
    }

    /// <summary>Per sequence, the expected bin centre at each timestep's first action (NaN where it was not predicted).</summary>
    public static IReadOnlyList<double[]> RegressionPredictions(IReadOnlyList<ScoredSequence> scored) =>
        scored.Select(s => FirstActionPositions(s.Sequence)
            .Select(j => s.RangeLogProbs.TryGetValue(j, out var lp) ? Expectation(lp, i => ContinuousTokenizer.BinCentre(i)) : double.NaN)
            .ToArray()).ToList();

    /// <summary>
    /// In-context regression: the model's prediction for pair k is the expected bin centre of its
    /// distribution over continuous bins at that pair's action (the MSE-optimal point estimate),
    /// having seen the k pairs before it; baselines run on exactly the same (x, y) sequences.
    /// </summary>
    public static (ErrorCurve Model, IReadOnlyList<ErrorCurve> Baselines) InContextRegression(
        IReadOnlyList<ScoredSequence> scored, IReadOnlyList<Episode> episodes, double ridgeLambda = 0.1)
    {
        var sequences = episodes.Select(e => new RegressionSequence(
            e.Timesteps.Select(t => t.Observation.Continuous!.Select(v => (double)v).ToArray()).ToArray(),
            e.Timesteps.Select(t => (double)t.Action!.Continuous![0]).ToArray())).ToList();
        var d = sequences[0].Dimension;
        var predictions = RegressionPredictions(scored);
        var model = RegressionBaselines.CurveFromPredictions("model", sequences, predictions, 2 * d);
        return (model, RegressionBaselines.Evaluate(sequences, 2 * d, ridgeLambda));
    }
}
