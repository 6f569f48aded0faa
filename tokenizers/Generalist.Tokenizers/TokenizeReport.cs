using Generalist.Episodes;

namespace Generalist.Tokenizers;

/// <summary>One position of a tokenized episode, with its decoded value (for `generalist tokenize`).</summary>
/// <param name="Token">The token id; null for image patches.</param>
/// <param name="Value">Decoded: the text piece, the discrete value, the continuous value (bin centre,
/// inverse-companded for observations), "|" for the separator; null for patches and end of episode.</param>
public sealed record TokenizedPosition(int Index, int Timestep, string Kind, int? Token, int Position, bool Loss, object? Value, int? PatchRow, int? PatchCol);

/// <summary>A tokenized episode with the vocabulary offsets, as `generalist tokenize --json` prints it.</summary>
public sealed record TokenizeReport(
    string Task,
    int TextVocabSize,
    int ContinuousOffset,
    int DiscreteOffset,
    int Separator,
    int EndOfEpisode,
    int Pad,
    int VocabSize,
    int PatchSize,
    int ContextLength,
    int Timesteps,
    int Length,
    int PatchCount,
    IReadOnlyList<TokenizedPosition> Positions)
{
    public static TokenizeReport Create(Episode episode, SequenceBuilder builder)
    {
        var seq = builder.Build(episode);
        var v = builder.Vocab;
        var entries = new TokenizedPosition[seq.Length];
        for (var i = 0; i < seq.Length; i++)
        {
            var kind = seq.Kinds[i];
            var token = seq.Tokens[i];
            object? value = kind switch
            {
                TokenKind.Text => builder.Text.Piece(token),
                TokenKind.Discrete or TokenKind.ActionDiscrete => DiscreteTokenizer.Decode(token, v.DiscreteOffset),
                TokenKind.Continuous => ContinuousTokenizer.DecodeObservation(token, v.ContinuousOffset),
                TokenKind.ActionContinuous => ContinuousTokenizer.DecodeAction(token, v.ContinuousOffset),
                TokenKind.Separator => "|",
                _ => null,
            };
            var patch = seq.PatchRefs[i];
            entries[i] = new TokenizedPosition(i, seq.TimestepIndices[i], kind.JsonName(), kind == TokenKind.Patch ? null : token,
                seq.Positions[i], seq.Loss(i), value,
                patch >= 0 ? seq.PatchRows[patch] : null, patch >= 0 ? seq.PatchCols[patch] : null);
        }
        return new TokenizeReport(episode.Task, v.TextVocabSize, v.ContinuousOffset, v.DiscreteOffset, v.Separator, v.EndOfEpisode, v.Pad,
            v.Size, builder.PatchSize, builder.ContextLength, episode.Timesteps.Count, seq.Length, seq.PatchCount, entries);
    }
}
