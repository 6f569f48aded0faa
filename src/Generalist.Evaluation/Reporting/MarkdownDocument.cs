using System.Globalization;
using System.Text;

namespace Generalist.Evaluation.Reporting;

/// <summary>A small Markdown builder for report.md and evaluation.md (tables, images, links).</summary>
public sealed class MarkdownDocument
{
    private readonly StringBuilder _text = new();

    public MarkdownDocument Heading(int level, string text) { _text.Append('#', level).Append(' ').AppendLine(text).AppendLine(); return this; }

    public MarkdownDocument Paragraph(string text) { _text.AppendLine(text).AppendLine(); return this; }

    public MarkdownDocument Bullets(IEnumerable<string> items)
    {
        foreach (var i in items) _text.Append("- ").AppendLine(i);
        _text.AppendLine();
        return this;
    }

    public MarkdownDocument Table(IReadOnlyList<string> header, IEnumerable<IReadOnlyList<string>> rows)
    {
        _text.Append("| ").Append(string.Join(" | ", header.Select(Escape))).AppendLine(" |");
        _text.Append('|').Append(string.Concat(header.Select(_ => "---|"))).AppendLine();
        foreach (var r in rows) _text.Append("| ").Append(string.Join(" | ", r.Select(Escape))).AppendLine(" |");
        _text.AppendLine();
        return this;
    }

    /// <summary>An image with links to its SVG, CSV and JSON; paths are made relative to <paramref name="reportDirectory"/>.</summary>
    public MarkdownDocument Chart(string caption, ChartFiles files, string reportDirectory)
    {
        string Rel(string p) => Path.GetRelativePath(reportDirectory, p).Replace('\\', '/');
        _text.AppendLine($"![{caption}]({Rel(files.Png)})").AppendLine();
        _text.AppendLine($"{caption}: [SVG]({Rel(files.Svg)}) · [CSV]({Rel(files.Csv)}) · [JSON]({Rel(files.Json)})").AppendLine();
        return this;
    }

    public override string ToString() => _text.ToString();

    public static string Number(double? v, string format = "0.####") =>
        v is { } x && double.IsFinite(x) ? x.ToString(format, CultureInfo.InvariantCulture) : "–";

    public static string Scientific(double? v) =>
        v is { } x && double.IsFinite(x) ? x.ToString("0.###e0", CultureInfo.InvariantCulture) : "–";

    private static string Escape(string s) => s.Replace("|", "\\|").Replace("\n", " ");
}
