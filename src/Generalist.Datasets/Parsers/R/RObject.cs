namespace Generalist.Datasets.Parsers.R;

/// <summary>R's SEXP type codes as they appear in a serialization (src/include/Rinternals.h).</summary>
public enum RType : byte
{
    Nil = 0, Symbol = 1, PairList = 2, Closure = 3, Environment = 4, Promise = 5, Language = 6,
    Special = 7, Builtin = 8, Char = 9, Logical = 10, Integer = 13, Real = 14, Complex = 15,
    String = 16, Dot = 17, Any = 18, List = 19, Expression = 20, ByteCode = 21,
    ExternalPointer = 22, WeakRef = 23, Raw = 24, S4 = 25,
}

/// <summary>
/// One unserialized R object. Only the payload that matches <see cref="Type"/> is set:
/// <see cref="Integers"/> for integer/logical vectors (NA = int.MinValue), <see cref="Reals"/> for
/// doubles and complex (re, im interleaved), <see cref="Strings"/> for character vectors (NA = null),
/// <see cref="Items"/> for lists, <see cref="Pairs"/> for pairlists and calls, <see cref="Name"/>
/// for symbols and single strings (CHARSXP).
/// </summary>
public sealed class RObject
{
    public const int NaInteger = int.MinValue;
    public static readonly RObject Null = new(RType.Nil);

    public RObject(RType type) => Type = type;

    public RType Type { get; }
    public int[]? Integers { get; init; }
    public double[]? Reals { get; init; }
    public string?[]? Strings { get; init; }
    public RObject[]? Items { get; init; }
    public byte[]? Raw { get; init; }
    public string? Name { get; init; }
    public IReadOnlyList<(string? Tag, RObject Value)>? Pairs { get; init; }
    public IReadOnlyList<(string? Tag, RObject Value)> Attributes { get; set; } = [];

    public RObject? Attribute(string name) => Attributes.FirstOrDefault(a => a.Tag == name).Value;

    /// <summary>The `class` attribute's strings (empty when none).</summary>
    public IReadOnlyList<string?> Classes => Attribute("class")?.Strings ?? [];

    public bool Inherits(string cls) => Classes.Contains(cls);

    /// <summary>Number of elements of a vector (list, atomic) or pairlist.</summary>
    public int Length => Type switch
    {
        RType.Integer or RType.Logical => Integers!.Length,
        RType.Real => Reals!.Length,
        RType.Complex => Reals!.Length / 2,
        RType.String => Strings!.Length,
        RType.List or RType.Expression => Items!.Length,
        RType.Raw => Raw!.Length,
        RType.PairList or RType.Language => Pairs!.Count,
        RType.Nil => 0,
        _ => 1,
    };

    public override string ToString() => $"{Type}[{Length}]" + (Classes.Count > 0 ? $" class={string.Join(",", Classes)}" : "");
}
