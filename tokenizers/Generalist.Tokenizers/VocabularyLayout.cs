namespace Generalist.Tokenizers;

/// <summary>
/// The single vocabulary, as disjoint ranges (tokenizers/README.md):
/// text pieces [0, TextVocabSize), then ContinuousBins continuous bins, then DiscreteValues
/// discrete values, then the special tokens separator '|', end of episode, and padding.
/// </summary>
public sealed record VocabularyLayout(int TextVocabSize = 8192, int ContinuousBins = 1024, int DiscreteValues = 1024)
{
    public static VocabularyLayout Default { get; } = new();

    public int ContinuousOffset => TextVocabSize;
    public int DiscreteOffset => ContinuousOffset + ContinuousBins;
    public int Separator => DiscreteOffset + DiscreteValues;
    public int EndOfEpisode => Separator + 1;
    public int Pad => Separator + 2;
    /// <summary>Number of real token ids.</summary>
    public int Size => Pad + 1;
    /// <summary>Embedding and output-head rows: Size rounded up to a multiple of 64 (faster matmuls).</summary>
    public int PaddedSize => (Size + 63) / 64 * 64;
}
