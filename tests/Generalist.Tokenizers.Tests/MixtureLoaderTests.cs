using System.Text.Json;
using FsCheck.Xunit;
using Generalist.Episodes;
using Generalist.Packing;

namespace Generalist.Tokenizers.Tests;

public class MixtureLoaderTests
{
    private static readonly VocabularyLayout V = Fixtures.Vocab;

    private sealed record Step(int Episode, int T, bool EndsEpisode, int Start, int Length);

    /// <summary>
    /// Reads back one row of a control-only batch built from <see cref="Fixtures.Control"/> episodes
    /// (discrete [episode, t], obsDim continuous, separator, actionDim discrete actions, end of
    /// episode after the last). Fails if any timestep is incomplete, i.e. if packing split one.
    /// </summary>
    private static List<Step> ParseRow(PackedBatch batch, int row, int obsDim, int actionDim)
    {
        var l = batch.ContextLength;
        var tokens = batch.Tokens.AsSpan(row * l, l);
        var positions = batch.LocalPositions.AsSpan(row * l, l);
        var steps = new List<Step>();
        var i = 0;
        var k = 2 + obsDim;
        while (i < l && tokens[i] != V.Pad)
        {
            var start = i;
            Assert.True(i + k + 1 + actionDim <= l, $"row {row}: timestep at {i} is cut by the end of the row");
            for (var j = 0; j < k; j++)
            {
                Assert.Equal(j, positions[i + j]);
                var expectDiscrete = j < 2;
                var tok = tokens[i + j];
                Assert.True(expectDiscrete ? tok >= V.DiscreteOffset && tok < V.Separator : tok >= V.ContinuousOffset && tok < V.DiscreteOffset,
                    $"row {row}: token {i + j} has the wrong range for observation slot {j}");
            }
            var ep = (int)(tokens[i] - V.DiscreteOffset);
            var t = (int)(tokens[i + 1] - V.DiscreteOffset);
            i += k;
            Assert.Equal(V.Separator, tokens[i]);
            Assert.Equal(k, positions[i]);
            i++;
            for (var j = 0; j < actionDim; j++, i++)
            {
                Assert.InRange(tokens[i], V.DiscreteOffset, V.Separator - 1);
                Assert.Equal(k + 1, positions[i]);
            }
            var ends = i < l && tokens[i] == V.EndOfEpisode;
            if (ends) i++;
            steps.Add(new Step(ep, t, ends, start, i - start));
        }
        for (; i < l; i++) Assert.Equal(V.Pad, tokens[i]);
        return steps;
    }

    private static MixtureLoader ControlLoader(int contextLength, int batchSize, double prompt, long seed, int obsDim = 3, int actionDim = 1, int episodes = 12) =>
        new([new TaskStream("control", 1, Fixtures.ControlSource("control", episodes, 3, 40, obsDim, actionDim, 99))],
            new LoaderOptions(contextLength, batchSize, 16, prompt, seed), V);

    [Property(MaxTest = 40, Replay = "(8,1)")]
    public bool Packing_never_splits_a_timestep(int seed, byte lengthChoice, byte obsChoice, byte actionChoice)
    {
        int obsDim = 1 + obsChoice % 6, actionDim = 1 + actionChoice % 3;
        var l = 16 + lengthChoice % 200;
        var loader = ControlLoader(l, 4, 0.5, seed, obsDim, actionDim);
        for (var b = 0; b < 3; b++)
        {
            var batch = loader.Next();
            for (var row = 0; row < batch.BatchSize; row++)
            {
                var steps = ParseRow(batch, row, obsDim, actionDim);
                // Within an episode, consecutive timesteps follow each other.
                for (var s = 1; s < steps.Count; s++)
                    if (steps[s].Episode == steps[s - 1].Episode && !steps[s - 1].EndsEpisode && steps[s].T != steps[s - 1].T + 1) return false;
                // A row is only left with padding when the next timestep would not have fit.
                if (steps.Count == 0) return false;
            }
        }
        return true;
    }

    [Property(MaxTest = 30, Replay = "(4,3)")]
    public bool Loss_mask_covers_exactly_text_action_and_document_end_targets(int seed)
    {
        var tasks = new List<TaskStream>
        {
            new("control", 1, Fixtures.ControlSource("control", 6, 3, 20, 2, 2, seed)),
            new("text", 1, Fixtures.TextSource("text", 5, seed)),
        };
        var loader = new MixtureLoader(tasks, new LoaderOptions(96, 6, 16, 0.25, seed), V);
        var batch = loader.Next();
        for (var row = 0; row < batch.BatchSize; row++)
        {
            var o = row * batch.ContextLength;
            var isText = batch.TaskIds[o] == 1;
            var actionPositions = new HashSet<int>();
            if (!isText) foreach (var s in ParseRow(batch, row, 2, 2)) for (var a = 0; a < 2; a++) actionPositions.Add(s.Start + 4 + 1 + a); // 2 + 2 observation tokens, the separator
            for (var t = 0; t < batch.ContextLength - 1; t++)
            {
                var next = batch.Tokens[o + t + 1];
                // A text document's end of episode is a target (generation learns to stop); a control episode's is not.
                var expected = isText ? next < V.TextVocabSize || next == V.EndOfEpisode : actionPositions.Contains(t + 1);
                if ((batch.LossMask[o + t] == 1f) != expected) return false;
                if (batch.Targets[o + t] != next) return false;
            }
            if (batch.LossMask[o + batch.ContextLength - 1] != 0f) return false;
        }
        return true;
    }

    [Fact]
    public void Saved_cursor_restores_exactly_the_next_batches()
    {
        var loader = ControlLoader(64, 5, 0.25, 42);
        for (var i = 0; i < 7; i++) loader.Next();
        var json = JsonSerializer.Serialize(loader.Cursor);
        var expected = Enumerable.Range(0, 4).Select(_ => loader.Next()).ToList();

        var resumed = ControlLoader(64, 5, 0.25, 42);
        resumed.Restore(JsonSerializer.Deserialize<LoaderCursor>(json)!);
        foreach (var want in expected) AssertSameBatch(want, resumed.Next());
        Assert.Equal(11, resumed.Cursor.NextBatch);
    }

    [Fact]
    public void A_cursor_from_another_configuration_is_refused()
    {
        var cursor = ControlLoader(64, 5, 0.25, 42).Cursor;
        Assert.Contains("cursor.seed", Assert.Throws<ArgumentException>(() => ControlLoader(64, 5, 0.25, 43).Restore(cursor)).Message);
        Assert.Contains("cursor.fingerprint", Assert.Throws<ArgumentException>(() => ControlLoader(80, 5, 0.25, 42).Restore(cursor)).Message);
    }

    [Fact]
    public void Same_seed_gives_the_same_batches_and_another_seed_different_ones()
    {
        var a = ControlLoader(64, 4, 0.25, 1);
        var b = ControlLoader(64, 4, 0.25, 1);
        var c = ControlLoader(64, 4, 0.25, 2);
        for (var i = 0; i < 3; i++)
        {
            var x = a.Next();
            AssertSameBatch(x, b.Next());
            Assert.NotEqual(x.Tokens, c.Next().Tokens);
        }
    }

    [Fact]
    public void Prompts_come_from_another_episode_with_the_configured_probability_half_from_the_end()
    {
        var loader = ControlLoader(128, 50, 0.25, 5, episodes: 20);
        int rows = 0, prompted = 0, fromEnd = 0;
        for (var b = 0; b < 40; b++)
        {
            var batch = loader.Next();
            for (var row = 0; row < batch.BatchSize; row++, rows++)
            {
                var steps = ParseRow(batch, row, 3, 1);
                // The main content starts at some timestep and runs on; a continuation after an
                // episode's end starts at t = 0. Anything else in front of it is a prompt.
                var switchAt = -1;
                for (var s = 1; s < steps.Count; s++)
                    if (steps[s].Episode != steps[s - 1].Episode && !(steps[s - 1].EndsEpisode && steps[s].T == 0)) { switchAt = s; break; }
                if (switchAt < 0) continue;
                prompted++;
                var promptLength = steps.Take(switchAt).Sum(s => s.Length);
                Assert.True(promptLength <= 64, "a prompt takes at most half the context");
                Assert.NotEqual(steps[0].Episode, steps[switchAt].Episode);
                if (steps[switchAt - 1].EndsEpisode) fromEnd++;
            }
        }
        // A window prompt that happens to reach the episode end also ends with it, so slightly over half.
        Assert.InRange(prompted / (double)rows, 0.20, 0.30);
        Assert.InRange(fromEnd / (double)prompted, 0.45, 0.75);
    }

    [Fact]
    public void Rows_mix_tasks_by_weight_and_language_tasks_are_never_prompted()
    {
        var tasks = new List<TaskStream>
        {
            new("a", 3, Fixtures.ControlSource("a", 4, 3, 10, 2, 1, 1)),
            new("b", 1, Fixtures.ControlSource("b", 4, 3, 10, 2, 1, 2)),
            new("text", 1, Fixtures.TextSource("text", 4, 3)),
        };
        var loader = new MixtureLoader(tasks, new LoaderOptions(32, 100, 16, 1.0, 9), V);
        var counts = new int[3];
        for (var i = 0; i < 20; i++)
        {
            var batch = loader.Next();
            Assert.Equal(new[] { "a", "b", "text" }, batch.TaskNames);
            for (var row = 0; row < batch.BatchSize; row++) counts[batch.TaskIds[row * 32]]++;
        }
        Assert.InRange(counts[0] / 2000.0, 0.56, 0.64);
        Assert.InRange(counts[1] / 2000.0, 0.17, 0.23);
        Assert.InRange(counts[2] / 2000.0, 0.17, 0.23);
    }

    [Fact]
    public void Images_are_packed_with_their_patches()
    {
        var rng = new Random(2);
        var episodes = Enumerable.Range(0, 5).Select(i => new Episode("img", [
            new Timestep(new Observation(Image: Fixtures.RandomImage(20, 12, 3, rng))),
            new Timestep(new Observation(Text: "a picture")),
        ])).ToList();
        var loader = new MixtureLoader([new TaskStream("img", 1, new InMemoryEpisodeSource("img", TaskFamily.VisionLanguage, episodes))],
            new LoaderOptions(40, 3, 8, 0.25, 1), V);
        var batch = loader.Next();
        var patcher = new ImagePatcher(8);
        Assert.Equal(3 * 8 * 8, batch.Patches.Length / Math.Max(1, batch.NumPatches));
        for (var i = 0; i < batch.TokenCount; i++)
        {
            var p = batch.PatchIndex[i];
            if (p < 0) continue;
            Assert.Equal(V.Pad, batch.Tokens[i]);
            Assert.Equal(0f, batch.LossMask[Math.Max(0, i - 1)] * (i % batch.ContextLength == 0 ? 0 : 1));
            Assert.InRange(batch.PatchRows[p], 0, 2);
            Assert.InRange(batch.PatchCols[p], 0, 1);
        }
        Assert.Equal(batch.NumPatches, batch.PatchIndex.Count(p => p >= 0));
        // The first row's first image equals the patcher's output for some episode.
        var first = batch.Patches.AsSpan(0, 6 * 192).ToArray();
        Assert.Contains(episodes, e => patcher.Patchify(e.Timesteps[0].Observation.Image!).SequenceEqual(first));
    }

    [Fact]
    public void Invalid_options_name_the_field()
    {
        var tasks = new List<TaskStream> { new("a", 1, Fixtures.ControlSource("a", 2, 3, 4, 1, 1, 1)) };
        Assert.Contains("prompt_probability", Assert.Throws<ArgumentException>(() => new MixtureLoader(tasks, new LoaderOptions(32, 2, 16, 1.5, 0), V)).Message);
        Assert.Contains("context_length", Assert.Throws<ArgumentException>(() => new MixtureLoader(tasks, new LoaderOptions(2, 2, 16, 0.2, 0), V)).Message);
        Assert.Contains("tasks[0].weight", Assert.Throws<ArgumentException>(() => new MixtureLoader([tasks[0] with { Weight = 0 }], new LoaderOptions(32, 2, 16, 0.2, 0), V)).Message);
        Assert.Contains("appears twice", Assert.Throws<ArgumentException>(() => new MixtureLoader([tasks[0], tasks[0]], new LoaderOptions(32, 2, 16, 0.2, 0), V)).Message);
    }

    [Fact]
    public void Action_history_dropout_hides_whole_actions_from_inputs_only_and_is_seeded()
    {
        const int obsDim = 3, actionDim = 2, l = 128, b = 16;
        MixtureLoader Loader(double hide, long seed) =>
            new([new TaskStream("control", 1, Fixtures.ControlSource("control", 12, 3, 40, obsDim, actionDim, 99))],
                new LoaderOptions(l, b, 16, 0.25, seed) { ActionHistoryDropout = hide }, V);
        var plain = Loader(0, 5).BuildBatch(3);
        var hidden = Loader(0.3, 5).BuildBatch(3);
        // Same rows, same targets; only inputs at action positions differ, and only whole actions.
        Assert.Equal(plain.Targets, hidden.Targets);
        Assert.Equal(plain.LocalPositions, hidden.LocalPositions);
        int hiddenActions = 0, actions = 0;
        for (var row = 0; row < b; row++)
        {
            foreach (var step in ParseRow(plain, row, obsDim, actionDim))
            {
                var first = row * l + step.Start + 2 + obsDim + 1; // the first action token
                actions++;
                var isHidden = hidden.Tokens[first] == V.Pad;
                for (var j = 0; j < actionDim; j++)
                {
                    Assert.Equal(isHidden ? V.Pad : plain.Tokens[first + j], hidden.Tokens[first + j]);
                    // The separator (first - 1) still predicts the first action token; later tokens of a
                    // hidden action lose their loss, because their inputs are hidden.
                    var target = first - 1 + j;
                    Assert.Equal(isHidden && j > 0 ? 0f : plain.LossMask[target], hidden.LossMask[target]);
                }
                if (isHidden) hiddenActions++;
            }
        }
        Assert.InRange(hiddenActions / (double)actions, 0.2, 0.4);
        // Everything but hidden actions is untouched.
        for (var i = 0; i < plain.Tokens.Length; i++)
            if (hidden.Tokens[i] != plain.Tokens[i]) Assert.Equal(V.Pad, hidden.Tokens[i]);
        // Seeded: the same seed hides the same actions, another seed others.
        MixtureLoaderTests.AssertSameBatch(hidden, Loader(0.3, 5).BuildBatch(3));
        Assert.NotEqual(hidden.Tokens, Loader(0.3, 6).BuildBatch(3).Tokens);
        // Off is exactly the loader without the option.
        MixtureLoaderTests.AssertSameBatch(plain, Loader(0, 5).BuildBatch(3));
        Assert.Contains("action_history_dropout", Assert.Throws<ArgumentException>(() => Loader(1, 5)).Message);
    }

    internal static void AssertSameBatch(PackedBatch a, PackedBatch b)
    {
        Assert.Equal(a.Tokens, b.Tokens);
        Assert.Equal(a.Targets, b.Targets);
        Assert.Equal(a.LossMask, b.LossMask);
        Assert.Equal(a.LocalPositions, b.LocalPositions);
        Assert.Equal(a.TaskIds, b.TaskIds);
        Assert.Equal(a.PatchIndex, b.PatchIndex);
        Assert.Equal(a.Patches, b.Patches);
    }
}
