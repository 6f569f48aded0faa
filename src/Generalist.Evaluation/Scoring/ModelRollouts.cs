using Generalist.Torch;
using Generalist.Envs;
using Generalist.Model;
using Generalist.Tokenizers;
using static TorchSharp.torch;
using Generalist.Episodes;
using Generalist.Packing;

namespace Generalist.Evaluation.Scoring;

/// <summary>
/// How the model acts. Greedy: discrete actions by argmax, continuous action values by
/// <paramref name="Continuous"/> (see <see cref="ContinuousActionDecoder"/>). Not greedy: every
/// action token is sampled from the model's distribution with the seed (Continuous is unused).
/// </summary>
public sealed record ActionDecoding(
    bool Greedy = true,
    long SamplingSeed = 0,
    ContinuousDecoding Continuous = ContinuousDecoding.Expected,
    double SmoothingBins = ContinuousActionDecoder.DefaultSmoothingBins)
{
    public string Describe() => Greedy ? $"greedy (continuous actions: {ContinuousActionDecoder.Name(Continuous)})" : "sampled";
}

/// <summary>Sees every state a model rollout visits (diagnostics such as expert agreement).</summary>
public interface IRolloutObserver
{
    /// <summary>Episode <paramref name="episode"/> starts; called again if its batch is replayed one copy at a time, so forget what was seen of it.</summary>
    void BeginEpisode(int episode);

    /// <summary>A visited state: <paramref name="env"/> is in the state <paramref name="observation"/> shows, before <paramref name="action"/> is applied.</summary>
    void Observe(int episode, Observation observation, IEnvironment env, ActionValue action);
}

/// <summary>Episode returns of one policy on seeds seed, seed + 1, ...</summary>
public sealed record ReturnStats(double[] Returns, double[] Lengths)
{
    public double Mean => Returns.Average();
    public double Std => Math.Sqrt(Returns.Select(r => (r - Mean) * (r - Mean)).Average());
}

/// <summary>
/// The model as a policy, batched: B copies of the environment step together through one KV cache.
/// Each sequence starts with the same expert demonstration (its end, up to half the context), then
/// per timestep the observation tokens and the separator are appended, and the action tokens are
/// decoded one at a time (restricted to the action space's tokens; see <see cref="ActionDecoding"/>)
/// and appended; a continuous value's token is the bin of the value sent to the environment.
/// The cache slides its window when the context fills. A copy whose episode ended idles (its
/// tokens keep the batch in lockstep and are ignored) until every copy is done.
/// </summary>
public static class ModelRollouts
{
    public static ReturnStats Run(
        GeneralistModel model,
        SequenceBuilder builder,
        Func<IEnvironment> createEnvironment,
        Episode demonstration,
        int episodes,
        long seed,
        ActionDecoding decoding,
        int batchSize = 16,
        Device? device = null,
        IProgress<int>? progress = null,
        IRolloutObserver? observer = null)
    {
        device ??= CPU;
        model.eval();
        var returns = new double[episodes];
        var lengths = new double[episodes];
        var random = new Random(unchecked((int)decoding.SamplingSeed));
        var prompt = DemonstrationPrompt(builder, demonstration, model.Config.ContextLength / 2);
        for (var first = 0; first < episodes; first += batchSize)
        {
            var count = Math.Min(batchSize, episodes - first);
            try
            {
                RunBatch(model, builder, createEnvironment, prompt, first, count, seed, decoding, random, device, returns, lengths, observer);
            }
            catch (ObservationLengthMismatch)
            {
                // Observations of different token counts (e.g. text missions) cannot share one cache step: play these one by one.
                for (var i = 0; i < count; i++)
                    RunBatch(model, builder, createEnvironment, prompt, first + i, 1, seed, decoding, random, device, returns, lengths, observer);
            }
            progress?.Report(first + count);
        }
        return new ReturnStats(returns, lengths);
    }

    private sealed class ObservationLengthMismatch : Exception;

    /// <summary>The demonstration's last whole timesteps that fit in the budget (the end of an episode shows success).</summary>
    private static TokenizedEpisode DemonstrationPrompt(SequenceBuilder builder, Episode demonstration, int budget)
    {
        var demo = builder.Build(demonstration);
        var first = demo.FirstUnitOfSuffixFitting(0, demo.UnitCount, budget);
        var prompt = new TokenizedEpisode(builder.PatchSize);
        prompt.AppendUnits(demo, first, demo.UnitCount - first);
        return prompt;
    }

    private static void RunBatch(GeneralistModel model, SequenceBuilder builder, Func<IEnvironment> createEnvironment, TokenizedEpisode prompt,
        int first, int count, long seed, ActionDecoding decoding, Random random, Device device, double[] returns, double[] lengths, IRolloutObserver? observer)
    {
        using var envs = VectorEnv.Create(createEnvironment, count);
        var space = envs.Spec.Action;
        var vocab = builder.Vocab;
        var (rangeStart, rangeCount, actionTokens) = space.IsDiscrete
            ? (vocab.DiscreteOffset, space.Choices, 1)
            : (vocab.ContinuousOffset, vocab.ContinuousBins, space.Dimensions);
        var observations = new Observation[count];
        for (var k = 0; k < count; k++)
        {
            // A replayed batch starts its episodes from zero.
            returns[first + k] = lengths[first + k] = 0;
            observer?.BeginEpisode(first + k);
            observations[k] = envs.ResetAt(k, seed + first + k);
        }
        using var outer = NewDisposeScope();
        using var _ = no_grad();
        using var promptInputs = WindowInputs.Create(Enumerable.Repeat((prompt, 0, prompt.Length), count).ToList(), prompt.Length, model.Config, device);
        var (ignored, cache) = model.Prefill(promptInputs);
        using (cache)
        {
            for (var t = 0; envs.Count > 0 && Enumerable.Range(0, count).Any(envs.IsActive); t++)
            {
                using var scope = NewDisposeScope();
                // Observation tokens and the separator of every copy.
                var step = new List<TokenizedEpisode>(count);
                var separatorPosition = -1;
                for (var k = 0; k < count; k++)
                {
                    var seq = new TokenizedEpisode(builder.PatchSize);
                    var n = builder.AppendObservation(seq, observations[k], t);
                    builder.AppendSeparator(seq, n, t);
                    if (k > 0 && seq.Length != step[0].Length) throw new ObservationLengthMismatch();
                    separatorPosition = n;
                    step.Add(seq);
                }
                using var chunk = WindowInputs.Create(step.Select(s => (s, 0, s.Length)).ToList(), step[0].Length, model.Config, device);
                var logits = model.Extend(chunk, cache);                                   // (B, V)
                var bins = new int[count, actionTokens];
                var values = new float[count, actionTokens];   // continuous: the value sent to the environment
                for (var a = 0; a < actionTokens; a++)
                {
                    var restricted = logits.narrow(1, rangeStart, rangeCount).to(ScalarType.Float32);   // (B, R)
                    var picks = Pick(restricted, space.IsDiscrete, decoding, random, out var decoded);
                    for (var k = 0; k < count; k++) (bins[k, a], values[k, a]) = (picks[k], decoded?[k] ?? 0);
                    // Every action token shares the local position after the separator.
                    using var tokens = tensor(picks.Select(p => (long)(p + rangeStart)).ToArray(), [count], ScalarType.Int64, device);
                    using var positions = full([(long)count], Scalars.Of(separatorPosition + 1), ScalarType.Int64, device);
                    logits = model.DecodeStep(tokens, positions, cache);
                }
                var actions = new ActionValue?[count];
                for (var k = 0; k < count; k++)
                {
                    if (!envs.IsActive(k)) continue;
                    var action = space.IsDiscrete
                        ? ActionValue.OfDiscrete(bins[k, 0])
                        : ActionValue.OfContinuous(Enumerable.Range(0, actionTokens).Select(a => values[k, a]).ToArray());
                    observer?.Observe(first + k, observations[k], envs[k], action);
                    actions[k] = action;
                }
                var result = envs.Step(actions);
                for (var k = 0; k < count; k++)
                {
                    if (actions[k] is null) continue;
                    returns[first + k] += result.Rewards[k];
                    lengths[first + k] += 1;
                    observations[k] = result.Observations[k];
                }
            }
        }
    }

    /// <summary>
    /// The bin of one action token per row of logits (B, R); for continuous actions also the
    /// decoded values (the bins are then the values' bins, so the sequence holds valid tokens).
    /// </summary>
    private static int[] Pick(Tensor logits, bool discrete, ActionDecoding decoding, Random random, out float[]? values)
    {
        values = null;
        if (!decoding.Greedy || discrete || decoding.Continuous == ContinuousDecoding.Mode)
        {
            var picks = decoding.Greedy ? logits.argmax(1).cpu().data<long>().Select(v => (int)v).ToArray() : Sample(logits, random);
            if (!discrete) values = picks.Select(ContinuousTokenizer.BinCentre).ToArray();
            return picks;
        }
        var probs = logits.softmax(1).cpu().data<float>().ToArray();
        var r = (int)logits.shape[1];
        values = Enumerable.Range(0, (int)logits.shape[0])
            .Select(k => ContinuousActionDecoder.Decode(probs.AsSpan(k * r, r), decoding.Continuous, decoding.SmoothingBins)).ToArray();
        return values.Select(ContinuousTokenizer.Bin).ToArray();
    }

    private static int[] Sample(Tensor logits, Random random)
    {
        var probs = logits.softmax(1).cpu().data<float>().ToArray();
        var b = (int)logits.shape[0];
        var r = (int)logits.shape[1];
        var picks = new int[b];
        for (var k = 0; k < b; k++)
        {
            var u = random.NextDouble();
            double cumulative = 0;
            picks[k] = r - 1;
            for (var i = 0; i < r; i++)
            {
                cumulative += probs[k * r + i];
                if (u < cumulative) { picks[k] = i; break; }
            }
        }
        return picks;
    }
}
