using System.Globalization;
using System.Text;
using Generalist.Evaluation.Reporting;

namespace Generalist.Studies.Scaling;

/// <summary>One measured point: a task's held-out loss (and optionally normalized score) at a model size and token budget.</summary>
public sealed record ScalingRow(string Task, double Params, double Tokens, double Loss, double? Score = null)
{
    public double Flops => Evaluation.Statistics.ScalingLaws.TrainingFlops(Params, Tokens);
}


/// <summary>
/// Reads and writes the (task, params, tokens, loss[, score]) table that `generalist study fit`
/// consumes and the scaling study produces; a malformed file raises InvalidDataException naming the
/// file, line and column. The header names the columns (any order, extra
/// columns ignored). Parsed by hand: RFC 4180 fields with quotes; no CSV package is held.
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
        var lines = text.Replace("\r\n", "\n").Split('\n');
        var header = -1;
        string[] names = [];
        for (var i = 0; i < lines.Length; i++)
        {
            if (string.IsNullOrWhiteSpace(lines[i]) || lines[i].TrimStart().StartsWith('#')) continue;
            names = SplitFields(lines[i], source, i + 1).Select(n => n.Trim().ToLowerInvariant()).ToArray();
            header = i;
            break;
        }
        if (header < 0) throw new InvalidDataException($"{source}: empty file; expected a header line with columns {string.Join(", ", Required)}[, {Optional}]");
        foreach (var r in Required)
            if (!names.Contains(r)) throw new InvalidDataException($"{source}: line {header + 1}: missing column '{r}' (header must name {string.Join(", ", Required)}[, {Optional}])");
        foreach (var dup in names.GroupBy(n => n).Where(g => g.Count() > 1 && g.Key.Length > 0))
            throw new InvalidDataException($"{source}: line {header + 1}: column '{dup.Key}' appears twice");
        int Col(string n) => Array.IndexOf(names, n);
        int task = Col("task"), p = Col("params"), t = Col("tokens"), l = Col("loss"), s = Col(Optional);
        var rows = new List<ScalingRow>();
        for (var i = header + 1; i < lines.Length; i++)
        {
            if (string.IsNullOrWhiteSpace(lines[i]) || lines[i].TrimStart().StartsWith('#')) continue;
            var line = i + 1;
            var f = SplitFields(lines[i], source, line);
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

    private static string[] SplitFields(string line, string source, int lineNumber)
    {
        var fields = new List<string>();
        var current = new StringBuilder();
        var quoted = false;
        for (var i = 0; i < line.Length; i++)
        {
            var c = line[i];
            if (quoted)
            {
                if (c == '"' && i + 1 < line.Length && line[i + 1] == '"') { current.Append('"'); i++; }
                else if (c == '"') quoted = false;
                else current.Append(c);
            }
            else if (c == '"' && current.ToString().Trim().Length == 0) { current.Clear(); quoted = true; }
            else if (c == ',') { fields.Add(current.ToString()); current.Clear(); }
            else current.Append(c);
        }
        if (quoted) throw new InvalidDataException($"{source}: line {lineNumber}: unterminated quoted field");
        fields.Add(current.ToString());
        return fields.ToArray();
    }
}
