using Generalist.Datasets.Cache;
using Generalist.Datasets.Sets;

namespace Generalist.Tokenizers.Tests;

public class TextTokenizerTests
{
    private static readonly TextTokenizer Text = TextTokenizer.Default;

    [Fact]
    public void The_embedded_model_has_the_vocabulary_size_of_the_layout() =>
        Assert.Equal(VocabularyLayout.Default.TextVocabSize, Text.VocabSize);

    [Fact]
    public void Fixture_lines_round_trip_exactly()
    {
        foreach (var line in Fixtures.Sentences)
        {
            var ids = Text.Encode(line);
            Assert.All(ids, id => Assert.InRange(id, 0, Text.VocabSize - 1));
            Assert.Equal(line, Text.Decode(ids));
        }
    }

    [Fact]
    public void Word_cached_encoding_equals_the_library_encoding()
    {
        // Includes runs of equal pairs ("....."), where the merge order among ties matters.
        string[] extra = ["", " ", "  ", "a", " leading", "trailing ", "x  y   z", "\ttab\t", "▁literal", "end.", "ground..... The", "...", "aaaaa",
            "ooo...!!!???", "“Oh!—” ‘No’…", new string('x', 100), "supercalifragilisticexpialidocious-and-then-some-more-words-joined-with-dashes-beyond-64-chars"];
        foreach (var line in Fixtures.Sentences.Concat(extra))
        {
            Assert.Equal(Text.EncodeWithoutWordCache(line), Text.Encode(line));
            Assert.Equal(Text.EncodeWithoutWordCache(line), Text.Encode(line)); // second time from the cache
        }
    }

    [Fact]
    public void Common_words_are_single_pieces_and_rare_characters_fall_back_to_bytes()
    {
        var whale = Text.Encode("whale"); // the model adds the dummy-prefix space itself
        Assert.Single(whale);
        Assert.Equal("▁whale", Text.Piece(whale[0]));
        // A character absent from the corpus becomes its UTF-8 bytes (4 for U+1F40B).
        var emoji = Text.Encode("🐋");
        Assert.Contains(emoji, id => Text.Piece(id) == "<0xF0>");
        Assert.Equal("🐋", Text.Decode(emoji));
    }

    [Fact]
    public void Encoding_is_deterministic_and_text_is_compressed()
    {
        var line = Fixtures.Sentences[0];
        Assert.Equal(Text.Encode(line), Text.Encode(line));
        Assert.True(Text.Encode(line).Length < line.Length / 3, "BPE should need far fewer pieces than characters");
    }

    [Fact]
    public void Ids_outside_the_vocabulary_are_refused() =>
        Assert.Throws<ArgumentOutOfRangeException>(() => Text.Decode([5, 8192]));

    /// <summary>Every line of the whole corpus (Moby-Dick and 233 addresses) round-trips exactly.</summary>
    [Fact]
    [Trait("Category", "Slow")]
    public void Every_corpus_line_round_trips_exactly()
    {
        var lines = 0;
        foreach (var file in EnglishCorpus.Files(new PackageCache(PackageCache.DefaultRoot())))
        {
            foreach (var line in File.ReadLines(file))
            {
                var ids = Text.Encode(line);
                if (!ids.AsSpan().SequenceEqual(Text.EncodeWithoutWordCache(line))) Assert.Fail($"{Path.GetFileName(file)}: word-cached ids differ from the library's: {line[..Math.Min(80, line.Length)]}");
                var decoded = Text.Decode(ids);
                if (decoded != line) Assert.Fail($"{Path.GetFileName(file)}: line did not round-trip: {line[..Math.Min(80, line.Length)]}");
                lines++;
            }
        }
        Assert.True(lines > 21_000, $"expected the whole corpus, read {lines} lines");
    }

    /// <summary>tokenizers/text/train.sh reproduces the committed model byte for byte (needs spm_train and npm).</summary>
    [Fact]
    [Trait("Category", "Slow")]
    public async Task Training_script_reproduces_the_committed_model()
    {
        var root = RepoRoot();
        var output = Directory.CreateTempSubdirectory("spm-");
        try
        {
            var psi = new System.Diagnostics.ProcessStartInfo("bash", [Path.Combine(root, "tokenizers/text/train.sh"), output.FullName]) { RedirectStandardOutput = true, RedirectStandardError = true };
            using var p = System.Diagnostics.Process.Start(psi)!;
            var err = p.StandardError.ReadToEndAsync();
            var outText = p.StandardOutput.ReadToEndAsync();
            using var timeout = new CancellationTokenSource(TimeSpan.FromMinutes(10));
            await p.WaitForExitAsync(timeout.Token);
            await outText;
            Assert.True(p.ExitCode == 0, await err);
            Assert.Equal(File.ReadAllBytes(Path.Combine(root, "tokenizers/text/generalist-8k.model")), File.ReadAllBytes(Path.Combine(output.FullName, "generalist-8k.model")));
        }
        finally
        {
            output.Delete(recursive: true);
        }
    }

    /// <summary>The directory holding Generalist.sln: above the test binaries, or (when they are built
    /// under another --artifacts-path) above this source file.</summary>
    internal static string RepoRoot([System.Runtime.CompilerServices.CallerFilePath] string sourceFile = "")
    {
        foreach (var start in new[] { AppContext.BaseDirectory, Path.GetDirectoryName(sourceFile) })
        {
            var dir = string.IsNullOrEmpty(start) ? null : new DirectoryInfo(start);
            while (dir is not null && !File.Exists(Path.Combine(dir.FullName, "Generalist.sln"))) dir = dir.Parent;
            if (dir is not null) return dir.FullName;
        }
        throw new InvalidOperationException("Generalist.sln not found above the test directory or the test sources");
    }
}
