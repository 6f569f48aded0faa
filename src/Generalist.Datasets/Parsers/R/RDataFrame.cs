namespace Generalist.Datasets.Parsers.R;

/// <summary>A read-only view of an R data.frame: named columns of equal length; factors resolved to their labels.</summary>
public sealed class RDataFrame
{
    private readonly Dictionary<string, RObject> _columns;

    public RDataFrame(RObject frame, string source)
    {
        if (frame.Type != RType.List || !frame.Inherits("data.frame"))
            throw new InvalidDataException($"{source}: expected an R data.frame, found {frame}");
        var names = frame.Attribute("names")?.Strings ?? throw new InvalidDataException($"{source}: the data.frame has no names");
        Source = source;
        ColumnNames = names.Select(n => n ?? "").ToArray();
        _columns = new Dictionary<string, RObject>(StringComparer.Ordinal);
        for (var i = 0; i < names.Length; i++) _columns[ColumnNames[i]] = frame.Items![i];
        RowCount = frame.Items!.Length == 0 ? 0 : frame.Items[0].Length;
        foreach (var (name, column) in _columns)
            if (column.Length != RowCount)
                throw new InvalidDataException($"{source}: column `{name}` has {column.Length} rows, the first column {RowCount}");
    }

    public string Source { get; }
    public IReadOnlyList<string> ColumnNames { get; }
    public int RowCount { get; }

    /// <summary>An integer column (NA = int.MinValue); a double column is rounded.</summary>
    public int[] Integers(string name)
    {
        var column = Column(name);
        if (column.Integers is { } ints && !column.Inherits("factor")) return ints;
        if (column.Reals is { } reals) return reals.Select(r => double.IsNaN(r) ? RObject.NaInteger : (int)Math.Round(r)).ToArray();
        throw new InvalidDataException($"{Source}: column `{name}` is {column}, not numeric");
    }

    /// <summary>A double column (NA = NaN); an integer column is widened.</summary>
    public double[] Doubles(string name)
    {
        var column = Column(name);
        if (column.Reals is { } reals) return reals;
        if (column.Integers is { } ints && !column.Inherits("factor")) return ints.Select(i => i == RObject.NaInteger ? double.NaN : i).ToArray();
        throw new InvalidDataException($"{Source}: column `{name}` is {column}, not numeric");
    }

    /// <summary>A character column, or a factor's labels (NA = null).</summary>
    public string?[] Strings(string name)
    {
        var column = Column(name);
        if (column.Strings is { } strings) return strings;
        if (column.Integers is { } codes && column.Inherits("factor"))
        {
            var levels = column.Attribute("levels")?.Strings ?? throw new InvalidDataException($"{Source}: factor `{name}` has no levels");
            return codes.Select(c => c == RObject.NaInteger ? null
                : c >= 1 && c <= levels.Length ? levels[c - 1]
                : throw new InvalidDataException($"{Source}: factor `{name}` code {c} outside [1, {levels.Length}]")).ToArray();
        }
        throw new InvalidDataException($"{Source}: column `{name}` is {column}, not text or a factor");
    }

    private RObject Column(string name) => _columns.TryGetValue(name, out var c) ? c
        : throw new InvalidDataException($"{Source}: no column `{name}` (columns: {string.Join(", ", ColumnNames)})");
}
