namespace Generalist.Envs;

/// <summary>
/// One Sokoban level: its board rows as written in the .sok format (<c>#</c> wall, <c>@</c>
/// player, <c>+</c> player on goal, <c>$</c> box, <c>*</c> box on goal, <c>.</c> goal, space
/// floor), its title, and optionally a solution.
/// </summary>
public sealed record SokobanLevel(string Title, IReadOnlyList<string> Rows, SokobanSolution? Solution = null)
{
    public const string BoardCharacters = "#@+$*. ";

    public int Height => Rows.Count;

    public int Width => Rows.Max(r => r.Length);

    /// <summary>The character at (row, column); beyond a row's end reads as floor.</summary>
    public char At(int row, int column) => column < Rows[row].Length ? Rows[row][column] : ' ';

    public int Boxes => Rows.Sum(r => r.Count(c => c is '$' or '*'));

    public int Players => Rows.Sum(r => r.Count(c => c is '@' or '+'));

    public int Goals => Rows.Sum(r => r.Count(c => c is '.' or '*' or '+'));

    /// <summary>
    /// Parses every level of a .sok text. A level is a run of consecutive board lines (only
    /// board characters, at least one wall). Other lines are metadata: "Title: ..." (the
    /// cavepacker/YSokoban style, written after its board) names the level before it; a
    /// "; ..." comment or a plain text line before a board names the next level when no Title
    /// line does; "Author:", "Comment:" ... "Comment-End:" blocks are skipped. Untitled levels
    /// are called "&lt;name&gt; #n".
    /// </summary>
    public static IReadOnlyList<SokobanLevel> ParseMany(string text, string name = "level", bool validate = true)
    {
        var levels = new List<(List<string> Rows, string? Title)>();
        List<string>? board = null;
        string? pendingTitle = null;
        var inComment = false;
        var lineNumber = 0;
        foreach (var raw in text.Split('\n'))
        {
            lineNumber++;
            var line = raw.TrimEnd('\r');
            if (inComment)
            {
                if (line.TrimStart().StartsWith("Comment-End", StringComparison.OrdinalIgnoreCase)) inComment = false;
                continue;
            }
            if (IsBoardLine(line))
            {
                board ??= [];
                board.Add(line.TrimEnd().Replace('-', ' ').Replace('_', ' ')); // '-' and '_' are floor in some collections
                continue;
            }
            if (board is not null)
            {
                levels.Add((board, pendingTitle));
                board = null;
                pendingTitle = null;
            }
            var trimmed = line.Trim();
            if (trimmed.Length == 0) continue;
            if (trimmed.StartsWith("Comment-End", StringComparison.OrdinalIgnoreCase)) continue;
            if (trimmed.StartsWith("Comment:", StringComparison.OrdinalIgnoreCase))
            {
                inComment = trimmed.Length == "Comment:".Length; // a one-line comment carries its text
                continue;
            }
            if (trimmed.StartsWith("Title:", StringComparison.OrdinalIgnoreCase))
            {
                var title = trimmed["Title:".Length..].Trim();
                if (levels.Count > 0 && title.Length > 0) levels[^1] = (levels[^1].Rows, title);
                continue;
            }
            if (trimmed.Contains(':') && !trimmed.StartsWith(';')) continue; // Author:, Date: and similar
            pendingTitle = trimmed.TrimStart(';').Trim() is { Length: > 0 } t ? t : pendingTitle;
        }
        if (board is not null) levels.Add((board, pendingTitle));

        var result = new List<SokobanLevel>();
        for (var i = 0; i < levels.Count; i++)
        {
            var level = new SokobanLevel(levels[i].Title ?? $"{name} #{i + 1}", levels[i].Rows);
            if (validate) level.Validate(name);
            result.Add(level);
        }
        return result;
    }

    /// <summary>Parses a text that holds exactly one level.</summary>
    public static SokobanLevel Parse(string text, string name = "level")
    {
        var levels = ParseMany(text, name);
        return levels.Count == 1 ? levels[0] : throw new InvalidDataException($"{name}: expected one Sokoban level, found {levels.Count}");
    }

    private static bool IsBoardLine(string line)
    {
        var t = line.TrimEnd();
        return t.Contains('#') && t.All(c => BoardCharacters.Contains(c) || c == '-' || c == '_');
    }

    /// <summary>Throws InvalidDataException when the level cannot be played: not one player, or boxes and goals differ in number.</summary>
    public void Validate(string source)
    {
        if (Players != 1) throw new InvalidDataException($"{source}: level '{Title}' has {Players} players (must have exactly 1)");
        if (Boxes == 0 || Boxes != Goals)
            throw new InvalidDataException($"{source}: level '{Title}' has {Boxes} boxes and {Goals} goals (must be equal and at least 1)");
    }
}
