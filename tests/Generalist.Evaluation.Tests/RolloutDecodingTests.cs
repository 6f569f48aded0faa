using Generalist.Envs;
using Generalist.Evaluation.Scoring;
using Generalist.Model;
using Generalist.Tokenizers;
using Generalist.Episodes;

namespace Generalist.Evaluation.Tests;

/// <summary>ModelRollouts on the pendulum (one continuous action) with each continuous decoding, on a fresh small model.</summary>
public class RolloutDecodingTests
{
    private static readonly ModelConfig Config = new ModelConfig { Layers = 2, ModelDim = 32, Heads = 2, ContextLength = 64, PatchSize = 4 }.Validate();

    private sealed class Recorder : IRolloutObserver
    {
        public List<float> Actions { get; } = [];
        public void BeginEpisode(int episode) { }
        public void Observe(int episode, Observation observation, IEnvironment env, ActionValue action) => Actions.Add(action.Continuous![0]);
    }

    private static (ReturnStats Stats, List<float> Actions) Play(ContinuousDecoding decoding)
    {
        using var model = new GeneralistModel(Config, seed: 11);
        var builder = new SequenceBuilder(VocabularyLayout.Default, Config.ContextLength, Config.PatchSize);
        var demonstration = Rollouts.Collect(new PendulumEnv(), EnvRegistry.Expert("pendulum"), 1, 77, "pendulum")[0];
        var recorder = new Recorder();
        var stats = ModelRollouts.Run(model, builder, () => new PendulumEnv(), demonstration, 2, 1_000, new ActionDecoding(Continuous: decoding), batchSize: 2, observer: recorder);
        return (stats, recorder.Actions);
    }

    private static bool IsBinCentre(float v) => v == ContinuousTokenizer.BinCentre(ContinuousTokenizer.Bin(v));

    [Theory]
    [InlineData(ContinuousDecoding.Mode)]
    [InlineData(ContinuousDecoding.Expected)]
    [InlineData(ContinuousDecoding.Smoothed)]
    public void EachDecodingPlaysWholeEpisodesWithValidActionsAndRepeats(ContinuousDecoding decoding)
    {
        var (stats, actions) = Play(decoding);
        Assert.All(stats.Lengths, l => Assert.Equal(200, l));
        Assert.Equal(400, actions.Count);
        Assert.All(actions, a => Assert.InRange(a, -1f, 1f));
        Assert.All(stats.Returns, r => Assert.True(double.IsFinite(r)));
        if (decoding == ContinuousDecoding.Expected)
        {
            // An untrained model is near uniform over the bins, whose mean is the middle of the range, rarely a bin centre.
            Assert.All(actions, a => Assert.InRange(a, -0.25f, 0.25f));
            Assert.Contains(actions, a => !IsBinCentre(a));
        }
        else Assert.All(actions, a => Assert.True(IsBinCentre(a), $"{a} is not a bin centre"));
        Assert.Equal(actions, Play(decoding).Actions);
    }
}
