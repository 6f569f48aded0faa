using System.Text;

namespace Generalist.Envs;

/// <summary>
/// A Sokoban solution as a sequence of moves. The .sol text is run-length LURD: l, u, r, d are
/// player moves (upper case marks a push; the game does not need the mark, a move into a box
/// pushes it), a decimal count before a letter repeats it ("3r" = "rrr"), and a count before a
/// parenthesised group repeats the group ("2(dull)" = "dulldull"; groups nest). Whitespace is
/// ignored.
/// </summary>
public sealed record SokobanSolution(IReadOnlyList<SokobanMove> Moves)
{
    public int Length => Moves.Count;

    public int Pushes => Moves.Count(m => m.Push);

    /// <summary>Expands the run-length text; throws InvalidDataException naming the source and the offending character.</summary>
    public static SokobanSolution Parse(string text, string source = "solution")
    {
        var position = 0;
        var moves = new List<SokobanMove>();
        ParseSequence(text, ref position, moves, source);
        if (position < text.Length)
            throw new InvalidDataException($"{source}: unmatched ')' at character {position + 1}");
        if (moves.Count == 0) throw new InvalidDataException($"{source}: the solution has no moves");
        return new SokobanSolution(moves);
    }

    private static void ParseSequence(string text, ref int position, List<SokobanMove> moves, string source)
    {
        while (position < text.Length)
        {
            var c = text[position];
            if (char.IsWhiteSpace(c)) { position++; continue; }
            if (c == ')') return;
            var count = 1;
            if (char.IsAsciiDigit(c))
            {
                var start = position;
                while (position < text.Length && char.IsAsciiDigit(text[position])) position++;
                if (!int.TryParse(text.AsSpan(start, position - start), out count) || count < 1 || count > 100_000)
                    throw new InvalidDataException($"{source}: repeat count at character {start + 1} must be in [1, 100000]");
                if (position >= text.Length) throw new InvalidDataException($"{source}: repeat count at the end has nothing to repeat");
                c = text[position];
            }
            if (c == '(')
            {
                position++;
                var group = new List<SokobanMove>();
                ParseSequence(text, ref position, group, source);
                if (position >= text.Length) throw new InvalidDataException($"{source}: '(' without a closing ')'");
                position++; // the ')'
                for (var i = 0; i < count; i++) moves.AddRange(group);
                if (moves.Count > 10_000_000) throw new InvalidDataException($"{source}: the solution expands past 10,000,000 moves");
                continue;
            }
            var move = SokobanMove.FromLetter(c) ?? throw new InvalidDataException(
                $"{source}: unexpected '{c}' at character {position + 1} (allowed: l u r d L U R D, digits, parentheses)");
            position++;
            for (var i = 0; i < count; i++) moves.Add(move);
        }
    }

    /// <summary>The plain LURD text (no run-length), pushes in upper case.</summary>
    public override string ToString()
    {
        var sb = new StringBuilder(Moves.Count);
        foreach (var m in Moves) sb.Append(m.Letter);
        return sb.ToString();
    }
}

/// <summary>One move; Direction is the action index of <see cref="SokobanEnv"/> (0 up, 1 down, 2 left, 3 right).</summary>
public readonly record struct SokobanMove(int Direction, bool Push)
{
    public char Letter => (Push ? "UDLR" : "udlr")[Direction];

    public static SokobanMove? FromLetter(char c) => c switch
    {
        'u' => new SokobanMove(0, false), 'U' => new SokobanMove(0, true),
        'd' => new SokobanMove(1, false), 'D' => new SokobanMove(1, true),
        'l' => new SokobanMove(2, false), 'L' => new SokobanMove(2, true),
        'r' => new SokobanMove(3, false), 'R' => new SokobanMove(3, true),
        _ => null,
    };
}
