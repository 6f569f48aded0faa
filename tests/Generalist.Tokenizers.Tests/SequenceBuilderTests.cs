using FsCheck.Xunit;
using Generalist.Episodes;
using Generalist.Packing;

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
        // "whale" is read before the action: no loss; the action values carry it.
        Assert.Equal(new[] { false, false, false, false, false, false, false, false, false, true, true, false, false }, loss);
    }

    [Fact]
    public void End_of_episode_carries_loss_only_after_a_final_text_timestep()
    {
        var builder = new SequenceBuilder(V, 64, patchSize: 2);
        var image = new ImageData(2, 2, 1, new byte[4]);
        // A caption: an image timestep, then a text timestep; the end of episode is a target.
        var caption = builder.Build(new Episode("c", [new Timestep(new Observation(Image: image)), new Timestep(new Observation("whale"))]));
        Assert.Equal(TokenKind.EndOfEpisode, caption.Kinds[^1]);
        Assert.Equal(new[] { false, true, true }, caption.LossFlags.ToArray());
        // A text document.
        var doc = builder.Build(new Episode("d", [new Timestep(new Observation("Call me Ishmael."))]));
        Assert.True(doc.LossFlags.ToArray().All(f => f));
        // After a control action, after an observation without text, or after empty text: no loss.
        var control = builder.Build(new Episode("k", [new Timestep(new Observation("go", Continuous: [0f]), ActionValue.OfDiscrete(1))]));
        Assert.False(control.Loss(control.Length - 1));
        var imageOnly = builder.Build(new Episode("i", [new Timestep(new Observation(Image: image))]));
        Assert.False(imageOnly.Loss(imageOnly.Length - 1));
        var empty = builder.Build(new Episode("e", [new Timestep(new Observation("", Discrete: [1]))]));
        Assert.False(empty.Loss(empty.Length - 1));
        // The packed mask follows: the position before the end of episode predicts it.
        var batch = SequencePacker.PackOne(caption, V, ["c"]);
        Assert.Equal(1f, batch.LossMask[caption.Length - 2]);
        Assert.Equal(V.EndOfEpisode, batch.Targets[caption.Length - 2]);
    }

    [Fact]
    public void Text_read_before_an_action_is_an_observation_without_loss()
    {
        var builder = new SequenceBuilder(V, 256);
        var mission = new Observation(Text: "go to the red ball", Discrete: [0, 1, 2]);
        var control = builder.Build(new Episode("gridnav", [
            new Timestep(mission, ActionValue.OfDiscrete(3)),
            new Timestep(mission, ActionValue.OfDiscrete(1)),
        ]));
        Assert.Contains(TokenKind.Text, control.Kinds.ToArray());
        for (var i = 0; i < control.Length; i++)
            Assert.Equal(control.Kinds[i] == TokenKind.ActionDiscrete, control.LossFlags[i]);

        // Text of a timestep without an action (a document, a caption) is still generated, so scored.
        var doc = builder.Build(new Episode("text", [new Timestep(new Observation(Text: "go to the red ball"))]));
        Assert.True(doc.LossFlags.ToArray().All(f => f));
    }

    [Fact]
    public void Unscored_timesteps_keep_their_action_tokens_but_no_loss()
    {
        var builder = new SequenceBuilder(V, 64);
        var episode = new Episode("t", [
            new Timestep(new Observation(Continuous: [0.5f]), ActionValue.OfDiscrete(1, 2)),
            new Timestep(new Observation(Continuous: [0.25f]), ActionValue.OfDiscrete(3, 4), ActionScored: false),
            new Timestep(new Observation(Continuous: [0f]), ActionValue.OfContinuous(0.5f), ActionScored: false),
            new Timestep(new Observation(Continuous: [1f]), ActionValue.OfContinuous(-0.5f)),
        ]);
        var seq = builder.Build(episode);
        var scored = builder.Build(episode with { Timesteps = episode.Timesteps.Select(t => t with { ActionScored = true }).ToList() });
        Assert.Equal(scored.Tokens.ToArray(), seq.Tokens.ToArray()); // same tokens: the perturbed action is still history
        Assert.Equal(scored.Kinds.ToArray(), seq.Kinds.ToArray());
        var expected = new bool[seq.Length];
        for (var i = 0; i < seq.Length; i++)
            expected[i] = seq.Kinds[i] is TokenKind.ActionDiscrete or TokenKind.ActionContinuous && seq.TimestepIndices[i] is 0 or 3;
        Assert.Equal(expected, seq.LossFlags.ToArray());
        Assert.Equal(seq.Kinds.ToArray().Select(k => k.CarriesLoss()), scored.LossFlags.ToArray());

        // The flags travel with the positions: whole units appended elsewhere, packed batches, cut units.
        var copy = new TokenizedEpisode(seq.PatchSize);
        copy.AppendUnits(seq, 1, 2);
        Assert.Equal(seq.LossFlags.Slice(seq.UnitStart(1), seq.UnitEnd(2) - seq.UnitStart(1)).ToArray(), copy.LossFlags.ToArray());
        var batch = SequencePacker.PackOne(seq, V, ["t"]);
        for (var t = 0; t < seq.Length - 1; t++) Assert.Equal(expected[t + 1] ? 1f : 0f, batch.LossMask[t]);
        copy.AppendToken(V.DiscreteOffset + 1, TokenKind.ActionDiscrete, 2, 9);
        copy.AppendToken(V.DiscreteOffset + 1, TokenKind.ActionDiscrete, 2, 9, loss: false);
        Assert.Equal(new[] { true, false }, copy.LossFlags[^2..].ToArray());
        Assert.Throws<ArgumentOutOfRangeException>(() => copy.Loss(copy.Length));
    }

    [Fact]
    public void Cutting_a_long_timestep_keeps_its_loss_flags()
    {
        var builder = new SequenceBuilder(V, 16);
        var text = string.Join(' ', Enumerable.Repeat(Fixtures.Sentences[4], 3));
        var seq = builder.Build(new Episode("t", [
            new Timestep(new Observation(text, Continuous: [1f, 2f])),
            new Timestep(new Observation(Continuous: [1f]), ActionValue.OfDiscrete(7)),
        ]));
        Assert.True(seq.UnitCount > 2);
        for (var i = 0; i < seq.Length; i++)
        {
            var kind = seq.Kinds[i];
            var expected = kind == TokenKind.Text || (kind == TokenKind.ActionDiscrete && seq.TimestepIndices[i] == 1);
            Assert.Equal(expected, seq.Loss(i));
        }
    }

    [Property(MaxTest = 60, Replay = "(21,13)")]
    public bool Loss_flag_is_true_exactly_for_text_scored_action_and_text_ending_tokens(int seed)
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
            steps.Add(new Timestep(obs, action, ActionScored: rng.Next(3) != 0));
        }
        var seq = builder.Build(new Episode("t", steps));
        var last = steps[^1];
        var endIsTarget = last.Action is null && !string.IsNullOrEmpty(last.Observation.Text);
        for (var i = 0; i < seq.Length; i++)
        {
            var token = seq.Tokens[i];
            var kind = seq.Kinds[i];
            // Text carries loss only in a timestep without an action (text read before acting is an observation).
            var isTextToken = kind == TokenKind.Text && token < V.TextVocabSize && steps[seq.TimestepIndices[i]].Action is null;
            var isAction = kind is TokenKind.ActionDiscrete or TokenKind.ActionContinuous;
            var scored = isAction && steps[seq.TimestepIndices[i]].ActionScored;
            var isEnd = kind == TokenKind.EndOfEpisode;
            if (seq.Loss(i) != (isTextToken || scored || (isEnd && endIsTarget))) return false;
            if (seq.LossFlags[i] != seq.Loss(i)) return false;
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
