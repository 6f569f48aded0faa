using FsCheck.Xunit;

namespace Generalist.Tokenizers.Tests;

public class SequenceBuilderTests
{
    private static readonly VocabularyLayout V = Fixtures.Vocab;

    [Fact]
    public void Golden_timestep_layout()
    {
        // text "whale" (1 piece), a 4x4 gray image with P = 2 (4 patches), discrete [3, 7],
        // continuous [0], then separator and discrete action [2, 5]; then an observation-only step.
        var builder = new SequenceBuilder(V, 64, patchSize: 2);
        var image = new ImageData(4, 4, 1, new byte[16]);
        var episode = new Episode("t", [
            new Timestep(new Observation("whale", image, [3, 7], [0f]), ActionValue.OfDiscrete(2, 5)),
            new Timestep(new Observation(Continuous: [1f])),
        ]);
        var seq = builder.Build(episode);
        var whale = TextTokenizer.Default.Encode("whale").Single();
        int c = V.ContinuousOffset, d = V.DiscreteOffset;
        Assert.Equal(new[] { whale, V.Pad, V.Pad, V.Pad, V.Pad, d + 3, d + 7, c + 512, V.Separator, d + 2, d + 5, c + 744, V.EndOfEpisode }, seq.Tokens.ToArray());
        Assert.Equal(new[] { TokenKind.Text, TokenKind.Patch, TokenKind.Patch, TokenKind.Patch, TokenKind.Patch, TokenKind.Discrete, TokenKind.Discrete,
            TokenKind.Continuous, TokenKind.Separator, TokenKind.ActionDiscrete, TokenKind.ActionDiscrete, TokenKind.Continuous, TokenKind.EndOfEpisode }, seq.Kinds.ToArray());
        Assert.Equal(new[] { 0, 1, 2, 3, 4, 5, 6, 7, 8, 9, 9, 0, 1 }, seq.Positions.ToArray());
        Assert.Equal(new[] { 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 1, 1 }, seq.TimestepIndices.ToArray());
        Assert.Equal(new[] { -1, 0, 1, 2, 3, -1, -1, -1, -1, -1, -1, -1, -1 }, seq.PatchRefs.ToArray());
        Assert.Equal(new[] { 0, 0, 1, 1 }, seq.PatchRows.ToArray());
        Assert.Equal(new[] { 0, 1, 0, 1 }, seq.PatchCols.ToArray());
        Assert.Equal(2, seq.UnitCount);
        Assert.Equal((0, 11), (seq.UnitStart(0), seq.UnitEnd(0)));
        var loss = Enumerable.Range(0, seq.Length).Select(seq.Loss).ToArray();
        Assert.Equal(new[] { true, false, false, false, false, false, false, false, false, true, true, false, false }, loss);
    }

    [Property(MaxTest = 60, Replay = "(21,13)")]
    public bool Loss_flag_is_true_exactly_for_text_and_action_tokens(int seed)
    {
        var rng = new Random(seed);
        var builder = new SequenceBuilder(V, 4096, patchSize: 4);
        var steps = new List<Timestep>();
        for (var t = 0; t < rng.Next(1, 6); t++)
        {
            var obs = new Observation(
                rng.Next(2) == 0 ? Fixtures.Sentences[rng.Next(Fixtures.Sentences.Length)] : null,
                rng.Next(2) == 0 ? Fixtures.RandomImage(rng.Next(1, 12), rng.Next(1, 12), rng.Next(2) * 2 + 1, rng) : null,
                rng.Next(2) == 0 ? Enumerable.Range(0, rng.Next(1, 4)).Select(_ => rng.Next(1024)).ToArray() : null,
                rng.Next(2) == 0 ? Enumerable.Range(0, rng.Next(1, 4)).Select(_ => (float)rng.NextDouble() * 50 - 25).ToArray() : null);
            ActionValue? action = rng.Next(3) switch
            {
                0 => null,
                1 => ActionValue.OfDiscrete(rng.Next(1024)),
                _ => ActionValue.OfContinuous((float)rng.NextDouble() * 2 - 1, (float)rng.NextDouble() * 2 - 1),
            };
            steps.Add(new Timestep(obs, action));
        }
        var seq = builder.Build(new Episode("t", steps));
        for (var i = 0; i < seq.Length; i++)
        {
            var token = seq.Tokens[i];
            var kind = seq.Kinds[i];
            var isTextToken = kind == TokenKind.Text && token < V.TextVocabSize;
            var isAction = kind is TokenKind.ActionDiscrete or TokenKind.ActionContinuous;
            if (seq.Loss(i) != (isTextToken || isAction)) return false;
            // token ranges agree with kinds
            var ok = kind switch
            {
                TokenKind.Text => token < V.ContinuousOffset,
                TokenKind.Continuous or TokenKind.ActionContinuous => token >= V.ContinuousOffset && token < V.DiscreteOffset,
                TokenKind.Discrete or TokenKind.ActionDiscrete => token >= V.DiscreteOffset && token < V.Separator,
                TokenKind.Separator => token == V.Separator,
                TokenKind.EndOfEpisode => token == V.EndOfEpisode,
                TokenKind.Patch => token == V.Pad && seq.PatchRefs[i] >= 0,
                _ => false,
            };
            if (!ok) return false;
        }
        // Separators appear exactly once per timestep with an action.
        return seq.Kinds.Count(TokenKind.Separator) == steps.Count(s => s.Action is not null);
    }

    [Fact]
    public void A_timestep_longer_than_the_context_is_cut_into_context_sized_units()
    {
        var text = string.Join(' ', Enumerable.Repeat(Fixtures.Sentences[0], 40));
        var builder = new SequenceBuilder(V, 64);
        var seq = builder.Build(new Episode("t", [new Timestep(new Observation(Text: text))]));
        var n = TextTokenizer.Default.Encode(text).Length + 1; // + end of episode
        Assert.Equal((n + 63) / 64, seq.UnitCount);
        for (var u = 0; u < seq.UnitCount; u++)
        {
            Assert.True(seq.UnitLength(u) <= 64);
            Assert.Equal(Enumerable.Range(0, seq.UnitLength(u)), seq.Positions.Slice(seq.UnitStart(u), seq.UnitLength(u)).ToArray());
        }
        Assert.Equal(text, TextTokenizer.Default.Decode(seq.Tokens[..^1]));
    }

    [Fact]
    public void Invalid_episodes_name_the_field()
    {
        var builder = new SequenceBuilder(V, 64);
        var e = Assert.Throws<ArgumentException>(() => builder.Build(new Episode("t", [new Timestep(new Observation(Discrete: [1, 2000]), ActionValue.OfDiscrete(1))])));
        Assert.Contains("timesteps[0].observation.discrete[1] must be in [0, 1024)", e.Message);
        e = Assert.Throws<ArgumentException>(() => builder.Build(new Episode("t", [new Timestep(new Observation(), new ActionValue([1], [0.5f]))])));
        Assert.Contains("timesteps[0].action must hold exactly one of discrete or continuous", e.Message);
        e = Assert.Throws<ArgumentException>(() => builder.Build(new Episode("t", [new Timestep(new Observation(), ActionValue.OfContinuous(2f))])));
        Assert.Contains("timesteps[0].action.continuous[0] must be in [-1, 1]", e.Message);
        Assert.Throws<ArgumentException>(() => builder.Build(new Episode("t", [])));
    }

    [Fact]
    public void Rollout_prompt_ends_with_the_separator_and_fits_the_context()
    {
        var builder = new SequenceBuilder(V, 48);
        var rng = new Random(3);
        var demo = Fixtures.Control("c", 7, 30, 3, 1, rng);
        var history = Fixtures.Control("c", 8, 5, 3, 1, rng).Timesteps;
        var prompt = RolloutPrompt.Build(builder, demo, history, new Observation(Discrete: [8, 5], Continuous: [0.1f, 0.2f, 0.3f]), actionTokens: 1, continuousAction: false);
        var seq = prompt.Sequence;
        Assert.True(seq.Length <= 48);
        Assert.Equal(TokenKind.Separator, seq.Kinds[^1]);
        Assert.Equal(5, seq.Positions[^1]);
        Assert.Equal(6, prompt.ActionPosition);
        // 7-token timesteps: current (6) + 5 history (35) = 41; 7 left -> one demo timestep (its last, with EoE = 8) does not fit
        Assert.Equal(41, seq.Length);
        var shorter = RolloutPrompt.Build(builder, demo, history.Take(2).ToList(), new Observation(Discrete: [8, 2], Continuous: [0.1f, 0.2f, 0.3f]), 1, false);
        // 6 + 14 = 20 used; 28 left: the demo's last 3 timesteps (8 + 7 + 7 = 22) fit, a fourth does not
        Assert.Equal(42, shorter.Sequence.Length);
        Assert.Equal(TokenKind.EndOfEpisode, shorter.Sequence.Kinds[21]);
        prompt.AppendActionToken(V.DiscreteOffset + 1);
        Assert.Equal((TokenKind.ActionDiscrete, 6), (seq.Kinds[^1], seq.Positions[^1]));
        var batch = SequencePacker.PackOne(seq, V, ["c"]);
        Assert.Equal(seq.Length, batch.ContextLength);
    }
}
