using System.Text.Json;
using Generalist.Datasets.Sets;
using SkiaSharp;
using Generalist.Episodes;
using Generalist.TestSupport;

namespace Generalist.Datasets.Tests;

public sealed class SetTests : IDisposable
{
    private readonly TempDir _dir = new();

    private static IEnumerable<Episode> All(IEpisodeSource source) => Enumerable.Range(0, source.Count).Select(source.Get);

    [Fact]
    public void Text_chunks_keep_spacing_and_cut_after_the_given_number_of_words()
    {
        var chunks = TextCorpus.Chunk("Call me  Ishmael.\nSome years ago\tnever mind ", 3).ToList();
        Assert.Equal(["Call me  Ishmael.", "Some years ago", "never mind"], chunks);
        Assert.Empty(TextCorpus.Chunk("   ", 5));
    }

    [Fact]
    public void Text_is_split_by_document_and_reads_the_package_layout()
    {
        var moby = _dir.File("moby/chapter_1.txt");
        File.WriteAllText(moby, "CHAPTER 1. Loomings.\n\nCall me Ishmael.");
        File.WriteAllText(_dir.File("moby/data.txt"), "the whole book, which must be skipped");
        for (var i = 0; i < 30; i++) File.WriteAllText(_dir.File($"sotu/{1790 + i}_george_washington_n.txt"), $"Fellow-Citizens number {i} of the Senate and House.");
        var docs = TextCorpus.ReadDocuments(_dir.Path + "/moby", _dir.Path + "/sotu");
        Assert.Equal(31, docs.Count);
        Assert.DoesNotContain(docs, d => d.Name == "moby-dick/data");
        var (train, heldOut) = TextCorpus.Build(docs, wordsPerEpisode: 4);
        Assert.True(heldOut.Count > 0 && train.Count > 0);
        var trainTexts = All(train).Select(e => e.Timesteps.Single().Observation.Text!).ToHashSet();
        var heldOutTexts = All(heldOut).Select(e => e.Timesteps.Single().Observation.Text!).ToHashSet();
        // Split by document: every document's chunks land on one side only.
        foreach (var doc in docs)
        {
            var pieces = TextCorpus.Chunk(doc.Text, 4).ToList();
            Assert.True(pieces.All(trainTexts.Contains) || pieces.All(heldOutTexts.Contains), doc.Name);
        }
        // Deterministic: building again gives the same split.
        var (train2, _) = TextCorpus.Build(docs, wordsPerEpisode: 4);
        Assert.Equal(All(train).Select(e => e.Timesteps[0].Observation.Text), All(train2).Select(e => e.Timesteps[0].Observation.Text));
    }

    [Fact]
    public void Held_out_split_is_stable_and_about_one_in_ten()
    {
        var keys = Enumerable.Range(0, 5000).Select(i => $"user:{i}").ToList();
        var heldOut = keys.Count(k => StableSplit.IsHeldOut(k));
        Assert.InRange(heldOut, 400, 600);
        Assert.Equal(14_695_981_039_346_656_037UL ^ (14_695_981_039_346_656_037UL >> 29), StableSplit.Hash("")); // FNV-1a offset basis, folded
    }

    [Fact]
    public void Regression_sequences_are_deterministic_linear_and_disjoint_between_splits()
    {
        var (train, heldOut) = IclRegressionSource.Create(seed: 42, new IclRegressionOptions(Dimension: 4, Pairs: 16));
        var (again, _) = IclRegressionSource.Create(seed: 42, new IclRegressionOptions(Dimension: 4, Pairs: 16));
        var (other, _) = IclRegressionSource.Create(seed: 43, new IclRegressionOptions(Dimension: 4, Pairs: 16));
        var a = train.Get(5);
        Assert.Equal(16, a.Timesteps.Count);
        Assert.Equal(a.Timesteps.Select(t => t.Action!.Continuous![0]), again.Get(5).Timesteps.Select(t => t.Action!.Continuous![0]));
        Assert.NotEqual(a.Timesteps[0].Observation.Continuous!, other.Get(5).Timesteps[0].Observation.Continuous!);
        Assert.NotEqual(a.Timesteps[0].Observation.Continuous!, heldOut.Get(5).Timesteps[0].Observation.Continuous!);
        var w = ((IclRegressionSource)train).Weights(5);
        foreach (var step in a.Timesteps)
        {
            var x = step.Observation.Continuous!;
            var expected = Math.Clamp(x.Select((v, j) => v * w[j]).Sum() / (3 * Math.Sqrt(4)), -1, 1);
            Assert.Equal(expected, step.Action!.Continuous![0], 1e-5);
        }
        // Held-out functions are new: no weight vector repeats between the splits.
        var trainW = Enumerable.Range(0, 200).Select(i => ((IclRegressionSource)train).Weights(i)[0]).ToHashSet();
        Assert.DoesNotContain(Enumerable.Range(0, 200).Select(i => ((IclRegressionSource)heldOut).Weights(i)[0]), trainW.Contains);
        Assert.Throws<ArgumentException>(() => IclRegressionSource.Create(1, new IclRegressionOptions(Dimension: 0)));
    }

    [Fact]
    public void Emoji_are_decoded_composited_on_white_downscaled_and_captioned_by_name()
    {
        var package = _dir.File("package/emoji.json");
        var names = new[] { "GRINNING FACE", "RED APPLE", "HASH KEY", "SNOWMAN", "ROCKET", "MAN IN TUXEDO", "MAN IN TUXEDO" };
        var entries = names.Select((n, i) => new { name = n, image = $"{i:x4}.png", category = "Test", has_img_twitter = true }).ToList();
        entries.Add(new { name = "NO TWITTER ART", image = "none.png", category = "Test", has_img_twitter = false });
        File.WriteAllText(package, JsonSerializer.Serialize(entries));
        for (var i = 0; i < names.Length; i++)
        {
            // Left half opaque red, right half fully transparent.
            using var bitmap = new SKBitmap(new SKImageInfo(64, 64, SKColorType.Rgba8888, SKAlphaType.Unpremul));
            for (var y = 0; y < 64; y++)
                for (var x = 0; x < 64; x++)
                    bitmap.SetPixel(x, y, x < 32 ? new SKColor(255, 0, 0, 255) : new SKColor(0, 0, 255, 0));
            using var data = bitmap.Encode(SKEncodedImageFormat.Png, 100);
            File.WriteAllBytes(_dir.File($"package/img/twitter/64/{i:x4}.png"), data.ToArray());
        }
        var (train, heldOut) = EmojiSource.FromPackage(Path.Combine(_dir.Path, "package"));
        Assert.Equal(6, train.Count + heldOut.Count); // duplicate name merged, entry without art skipped
        var captions = All(train).Concat(All(heldOut)).Select(e => e.Timesteps[1].Observation.Text!).ToList();
        Assert.Contains("red apple", captions);
        Assert.Empty(All(train).Select(e => e.Timesteps[1].Observation.Text).Intersect(All(heldOut).Select(e => e.Timesteps[1].Observation.Text)));
        var image = train.Get(0).Timesteps[0].Observation.Image!;
        Assert.Equal((32, 32, 3), (image.Height, image.Width, image.Channels));
        Assert.Equal((255, 0, 0), (image[10, 5, 0], image[10, 5, 1], image[10, 5, 2]));     // red stays red
        Assert.Equal((255, 255, 255), (image[10, 28, 0], image[10, 28, 1], image[10, 28, 2])); // transparent becomes white
    }

    [Fact]
    public void Emoji_metadata_that_is_not_json_is_refused_with_the_file()
    {
        var path = _dir.File("emoji.json");
        File.WriteAllText(path, "{ not json");
        Assert.Contains("emoji.json", Assert.Throws<InvalidDataException>(() => EmojiCatalog.Parse(path)).Message);
    }

    public void Dispose() => _dir.Dispose();
}
