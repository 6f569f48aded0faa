using System.Globalization;
using Generalist.Evaluation.Reporting;
using nietras.SeparatedValues;

namespace Generalist.Studies.Scaling;

/// <summary>One measured point: a task's held-out loss (and optionally normalized score) at a model size and token budget.</summary>
public sealed record ScalingRow(string Task, double Params, double Tokens, double Loss, double? Score = null)
{
    public double Flops => Evaluation.Statistics.ScalingLaws.TrainingFlops(Params, Tokens);
}


/// <summary>
/// Reads and writes the (task, params, tokens, loss[, score]) table that `generalist study fit`
/// consumes and the scaling study produces; a malformed file raises InvalidDataException naming the
/// file, line and column. The header names the columns (any order, extra columns ignored). Fields
/// are split and unquoted by Sep (RFC 4180 quotes); blank lines and lines starting with '#' are
/// skipped, and a field may not span lines (each line is one row).
/// </summary>
public static class ScalingResultsCsv
{
    public static readonly string[] Required = ["task", "params", "tokens", "loss"];
    public const string Optional = "score";

    public static IReadOnlyList<ScalingRow> Load(string path)
    {
        if (!File.Exists(path)) throw new FileNotFoundException($"results file not found: {path}", path);
        return Parse(File.ReadAllText(path), path);
    }

    public static IReadOnlyList<ScalingRow> Parse(string text, string source)
    {
        // Sep has no comment lines, so they are blanked before it reads: a quote in a comment then
        // cannot open a field, and every line stays where it was for the error messages.
        var lines = text.Replace("\r\n", "\n").Split('\n').Select(l => l.TrimStart().StartsWith('#') ? "" : l);
        using var reader = Sep.New(',').Reader(o => o with
        {
            HasHeader = false, // the header may follow comments, and its names are trimmed and lower-cased here
            DisableColCountCheck = true, // blank lines are rows of one field; the count is checked below
            Unescape = true,
            Trim = SepTrim.All,
        }).FromText(string.Join('\n', lines));
        string[]? names = null;
        var headerLine = 0;
        int task = 0, p = 0, t = 0, l = 0, s = 0;
        var rows = new List<ScalingRow>();
        var line = 0;
        foreach (var row in reader)
        {
            // One row per line: a row that runs past its line (or ends inside quotes) is the error
            // here, so the row count is the line number. Checked on the raw text, before any field
            // is read, since unquoting rewrites it in place.
            line++;
            var raw = row.Span;
            if (raw.IndexOfAny('\n', '\r') >= 0 || raw.Count('"') % 2 != 0)
                throw new InvalidDataException($"{source}: line {line}: unterminated quoted field");
            if (raw.IsWhiteSpace()) continue;
            var f = new string[row.ColCount];
            for (var i = 0; i < f.Length; i++) f[i] = row[i].ToString();
            if (names is null)
            {
                names = f.Select(n => n.Trim().ToLowerInvariant()).ToArray();
                headerLine = line;
                foreach (var r in Required)
                    if (!names.Contains(r)) throw new InvalidDataException($"{source}: line {headerLine}: missing column '{r}' (header must name {string.Join(", ", Required)}[, {Optional}])");
                foreach (var dup in names.GroupBy(n => n).Where(g => g.Count() > 1 && g.Key.Length > 0))
                    throw new InvalidDataException($"{source}: line {headerLine}: column '{dup.Key}' appears twice");
                (task, p, t, l, s) = (Array.IndexOf(names, "task"), Array.IndexOf(names, "params"), Array.IndexOf(names, "tokens"),
                    Array.IndexOf(names, "loss"), Array.IndexOf(names, Optional));
                continue;
            }
            if (f.Length != names.Length)
                throw new InvalidDataException($"{source}: line {line}: {f.Length} fields but the header has {names.Length}");
            var name = f[task].Trim();
            if (name.Length == 0) throw new InvalidDataException($"{source}: line {line}, column {task + 1} 'task': must not be empty");
            rows.Add(new ScalingRow(
                name,
                Number(f, p, "params", line, source, min: 0, exclusive: true),
                Number(f, t, "tokens", line, source, min: 0, exclusive: true),
                Number(f, l, "loss", line, source, min: 0, exclusive: false),
                s >= 0 && f[s].Trim().Length > 0 ? Number(f, s, "score", line, source, min: double.NegativeInfinity, exclusive: false) : null));
        }
        if (names is null) throw new InvalidDataException($"{source}: empty file; expected a header line with columns {string.Join(", ", Required)}[, {Optional}]");
        if (rows.Count == 0) throw new InvalidDataException($"{source}: no data rows after the header");
        return rows;
    }

    public static string Format(IEnumerable<ScalingRow> rows) =>
        AtomicFiles.Csv(["task", "params", "tokens", "loss", "score"], rows.Select(r => new[]
        {
            r.Task, AtomicFiles.CsvNumber(r.Params), AtomicFiles.CsvNumber(r.Tokens), AtomicFiles.CsvNumber(r.Loss),
            r.Score is { } v ? AtomicFiles.CsvNumber(v) : "",
        }));

    private static double Number(string[] fields, int column, string name, int line, string source, double min, bool exclusive)
    {
        var raw = fields[column].Trim();
        if (!double.TryParse(raw, NumberStyles.Float, CultureInfo.InvariantCulture, out var v) || !double.IsFinite(v))
            throw new InvalidDataException($"{source}: line {line}, column {column + 1} '{name}': '{raw}' is not a finite number");
        if (exclusive ? !(v > min) : !(v >= min))
            throw new InvalidDataException($"{source}: line {line}, column {column + 1} '{name}': {raw} must be {(exclusive ? ">" : ">=")} {min.ToString(CultureInfo.InvariantCulture)}");
        return v;
    }
}
