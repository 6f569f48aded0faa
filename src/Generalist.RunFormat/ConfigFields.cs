using System.Globalization;

namespace Generalist.RunFormat;

/// <summary>
/// What values a config field accepts, as a check and as words. The validator reports
/// "FIELD: must be {Requirement} (got VALUE)" and `generalist config show` prints the same
/// Requirement beside the field, so the documented range is the enforced one.
/// </summary>
public sealed class FieldRule
{
    private readonly Func<object?, IEnumerable<string>> _problems;

    private FieldRule(string requirement, Func<object?, IEnumerable<string>> problems)
    {
        Requirement = requirement;
        _problems = problems;
    }

    /// <summary>The rule in words, completing "must be ...".</summary>
    public string Requirement { get; }

    /// <summary>Every problem with the value, each a message starting "must ...".</summary>
    public IEnumerable<string> Problems(object? value) => _problems(value);

    /// <summary>A rule from a predicate: one message "must be {requirement} (got VALUE)" when it fails.</summary>
    public static FieldRule Where(string requirement, Func<object?, bool> accepts) =>
        new(requirement, v => accepts(v) ? [] : [$"must be {requirement} (got {Show(v)})"]);

    /// <summary>A rule that reports its own problems (e.g. a launcher template's several checks).</summary>
    public static FieldRule Custom(string requirement, Func<object?, IEnumerable<string>> problems) => new(requirement, problems);

    /// <summary>Any value of the field's JSON type (the JSON reader already refuses other types).</summary>
    public static FieldRule Any(string requirement) => new(requirement, _ => []);

    public static FieldRule Bool { get; } = Any("true or false");

    /// <summary>A whole number in [min, max].</summary>
    public static FieldRule Int(long min, long max) =>
        Where($"in [{min}, {max}]", v => Convert.ToInt64(v, CultureInfo.InvariantCulture) is var x && x >= min && x <= max);

    /// <summary>A number in an interval; open ends are written with ( and ).</summary>
    public static FieldRule Number(double min, double max, bool minOpen = false, bool maxOpen = false) =>
        Where($"in {(minOpen ? "(" : "[")}{Num(min)}, {Num(max)}{(maxOpen ? ")" : "]")}", v =>
        {
            var x = Convert.ToDouble(v, CultureInfo.InvariantCulture);
            return (minOpen ? x > min : x >= min) && (maxOpen ? x < max : x <= max);
        });

    /// <summary>A finite number above (or at least) a bound; note says what a special value means.</summary>
    public static FieldRule Finite(double min, bool strict, string? note = null) =>
        Where($"a finite number {(strict ? ">" : ">=")} {Num(min)}{(note is null ? "" : $" ({note})")}", v =>
        {
            var x = Convert.ToDouble(v, CultureInfo.InvariantCulture);
            return double.IsFinite(x) && (strict ? x > min : x >= min);
        });

    /// <summary>One of a few words: two are written "\"a\" or \"b\"", more as "one of a, b, c".</summary>
    public static FieldRule OneOf(IReadOnlyList<string> values) =>
        Where(values.Count == 2 ? $"\"{values[0]}\" or \"{values[1]}\"" : $"one of {string.Join(", ", values)}", v => v is string s && values.Contains(s));

    /// <summary>The same rule, also accepting null (with what null means).</summary>
    public FieldRule OrNull(string meaning) => new($"{Requirement}, or null for {meaning}", v => v is null ? [] : Problems(v));

    private static string Num(double x) => x.ToString("0.###############", CultureInfo.InvariantCulture);

    private static string Show(object? v) => v switch
    {
        null => "null",
        string s => $"'{(s.Length > 80 ? s[..80] + "..." : s)}'",
        double d => d.ToString("R", CultureInfo.InvariantCulture),
        IFormattable f => f.ToString(null, CultureInfo.InvariantCulture),
        _ => v.ToString() ?? "",
    };
}

/// <summary>One documented config field: its dotted path ("optimizer.learning_rate"), what it does, and the rule it obeys.</summary>
public sealed record ConfigField<TConfig>(string Path, string Description, FieldRule Rule, Func<TConfig, object?>? Value = null)
{
    /// <summary>The field's problems in a config (none when the field is checked elsewhere, Value = null).</summary>
    public IEnumerable<ConfigError> Check(TConfig config) =>
        Value is null ? [] : Rule.Problems(Value(config)).Select(m => new ConfigError(Path, m));

    public FieldDoc Doc => new(Path, Description, Rule.Requirement);
}

/// <summary>A field as documentation: path, description, and the rule in words ("must be ...").</summary>
public sealed record FieldDoc(string Path, string Description, string Requirement);
