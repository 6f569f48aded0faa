using Spectre.Console;
using Spectre.Console.Rendering;

namespace Generalist.Cli.Output;

/// <summary>
/// Writes a table where people and programs read it. On a terminal: Spectre's table, which wraps
/// inside cells at word boundaries. When stdout is a pipe or a file: tab-separated lines, a header
/// then one line per row, so no cell is ever cut across lines (a redirected Spectre table is laid
/// out for 80 columns and splits words: "pole_angular_ve locity").
/// </summary>
public static class CliTable
{
    public static void Write(Table table) => Write(table, Console.IsOutputRedirected ? Console.Out : null);

    /// <summary>Plain tab-separated text to <paramref name="plain"/>, or the Spectre table when it is null.</summary>
    internal static void Write(Table table, TextWriter? plain)
    {
        if (plain is null)
        {
            AnsiConsole.Write(table);
            return;
        }
        plain.WriteLine(string.Join('\t', table.Columns.Select(c => Text(c.Header))));
        foreach (var row in table.Rows) plain.WriteLine(string.Join('\t', row.Select(Text)));
    }

    /// <summary>A cell's text without markup, on one line (tabs and line breaks become spaces).</summary>
    internal static string Text(IRenderable cell)
    {
        var options = RenderOptions.Create(AnsiConsole.Console, AnsiConsole.Console.Profile.Capabilities);
        var parts = cell.Render(options, int.MaxValue / 2).Select(s => s.IsLineBreak ? " " : s.Text);
        return string.Concat(parts).Replace('\t', ' ').Replace('\n', ' ').Replace('\r', ' ').TrimEnd();
    }
}
