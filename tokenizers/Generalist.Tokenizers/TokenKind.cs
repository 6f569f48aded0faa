namespace Generalist.Tokenizers;

/// <summary>What a position of a tokenized sequence holds (tokenizers/README.md, "Token kinds").</summary>
public enum TokenKind : byte
{
    Text,
    Patch,
    Discrete,
    Continuous,
    Separator,
    ActionDiscrete,
    ActionContinuous,
    EndOfEpisode,
}

public static class TokenKinds
{
    /// <summary>
    /// The kinds that carry loss by default: text and action tokens. The loss flag of a built
    /// sequence is per position (<see cref="TokenizedEpisode.LossFlags"/>): it also turns off the
    /// action tokens of unscored timesteps and turns on the end of episode after a final text
    /// timestep, so read the flag, not the kind, to know what a position is trained on.
    /// </summary>
    public static bool CarriesLoss(this TokenKind kind) => kind is TokenKind.Text || kind.IsAction();

    /// <summary>An action value (discrete or continuous), the tokens after a separator.</summary>
    public static bool IsAction(this TokenKind kind) => kind is TokenKind.ActionDiscrete or TokenKind.ActionContinuous;

    /// <summary>The snake_case name used in JSON output (`generalist tokenize --json`).</summary>
    public static string JsonName(this TokenKind kind) => kind switch
    {
        TokenKind.Text => "text",
        TokenKind.Patch => "patch",
        TokenKind.Discrete => "discrete",
        TokenKind.Continuous => "continuous",
        TokenKind.Separator => "separator",
        TokenKind.ActionDiscrete => "action_discrete",
        TokenKind.ActionContinuous => "action_continuous",
        TokenKind.EndOfEpisode => "end_of_episode",
        _ => throw new ArgumentOutOfRangeException(nameof(kind), kind, null),
    };
}
