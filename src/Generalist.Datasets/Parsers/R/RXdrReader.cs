using System.Buffers.Binary;
using System.Text;

namespace Generalist.Datasets.Parsers.R;

/// <summary>
/// Unserializes R's XDR serialization format (versions 2 and 3), written by hand from R's
/// src/main/serialize.c because no held .NET package reads R data. It covers what data frames
/// and ordinary data need: atomic vectors, lists, pairlists (attributes), symbols, strings with
/// NA, factors (integer + attributes), the back-reference table (REFSXP), environments as opaque
/// objects, and the ALTREP classes R writes for compact sequences and wrappers. Byte code and
/// other code objects are refused with a clear error.
/// </summary>
public sealed class RXdrReader
{
    // Special "pseudo-SEXP" codes of the stream (serialize.c).
    private const int RefSxp = 255, NilValueSxp = 254, GlobalEnvSxp = 253, UnboundValueSxp = 252,
        MissingArgSxp = 251, BaseNamespaceSxp = 250, NamespaceSxp = 249, PackageSxp = 248,
        PersistSxp = 247, EmptyEnvSxp = 242, BaseEnvSxp = 241, AttrLangSxp = 240, AttrListSxp = 239,
        AltrepSxp = 238;
    private const int IsObjectBit = 1 << 8, HasAttrBit = 1 << 9, HasTagBit = 1 << 10;
    private const int MaxDepth = 10_000;

    private readonly Stream _stream;
    private readonly string _name;
    private readonly List<RObject> _refs = [];
    private readonly byte[] _buffer = new byte[8];
    private int _depth;

    private RXdrReader(Stream stream, string name)
    {
        _stream = stream;
        _name = name;
    }

    /// <summary>Reads one serialized object (header included) from a stream positioned at 'X\n'.</summary>
    public static RObject Unserialize(Stream stream, string name)
    {
        try
        {
            return new RXdrReader(stream, name).ReadAll();
        }
        catch (EndOfStreamException)
        {
            throw new InvalidDataException($"{name}: the R serialization ends early");
        }
    }

    public static RObject Unserialize(byte[] bytes, string name) => Unserialize(new MemoryStream(bytes, writable: false), name);

    private RObject ReadAll()
    {
        var format = new byte[2];
        _stream.ReadExactly(format);
        if (format[0] != (byte)'X' || format[1] != (byte)'\n')
            throw new InvalidDataException($"{_name}: not an R XDR serialization (starts with 0x{format[0]:x2}{format[1]:x2}; only the 'X\\n' binary XDR format is read)");
        var version = ReadInt();
        ReadInt(); // R version that wrote it
        ReadInt(); // oldest R version that can read it
        if (version == 3)
        {
            var encodingLength = ReadInt();
            ReadBytes(encodingLength); // native encoding name, e.g. UTF-8
        }
        else if (version != 2)
            throw new InvalidDataException($"{_name}: R serialization version {version} is not supported (2 or 3)");
        return ReadItem();
    }

    private RObject ReadItem() => ReadItem(ReadInt());

    private RObject ReadItem(int flags)
    {
        if (++_depth > MaxDepth) throw new InvalidDataException($"{_name}: R object nested deeper than {MaxDepth}");
        try
        {
            return ReadItemCore(flags);
        }
        finally
        {
            _depth--;
        }
    }

    private RObject ReadItemCore(int flags)
    {
        var type = flags & 0xFF;
        var levels = flags >> 12;
        var hasAttr = (flags & HasAttrBit) != 0;
        switch (type)
        {
            case NilValueSxp: return RObject.Null;
            case EmptyEnvSxp: case BaseEnvSxp: case GlobalEnvSxp: case BaseNamespaceSxp:
                return new RObject(RType.Environment) { Name = type switch { EmptyEnvSxp => "emptyenv", BaseEnvSxp => "baseenv", GlobalEnvSxp => "globalenv", _ => "base namespace" } };
            case UnboundValueSxp: return new RObject(RType.Symbol) { Name = "<unbound>" };
            case MissingArgSxp: return new RObject(RType.Symbol) { Name = "" };
            case RefSxp:
            {
                var index = flags >> 8;
                if (index == 0) index = ReadInt();
                if (index < 1 || index > _refs.Count)
                    throw new InvalidDataException($"{_name}: back-reference {index} outside [1, {_refs.Count}]");
                return _refs[index - 1];
            }
            case PersistSxp: case NamespaceSxp: case PackageSxp:
            {
                var names = ReadStringVector();
                var obj = new RObject(type == PersistSxp ? RType.Symbol : RType.Environment) { Strings = names, Name = string.Join(":", names) };
                _refs.Add(obj);
                return obj;
            }
            case AltrepSxp: return ReadAltrep();
            case AttrLangSxp: case AttrListSxp:
                throw new InvalidDataException($"{_name}: R byte-code pseudo type {type} is not supported");
        }

        switch ((RType)type)
        {
            case RType.Symbol:
            {
                var name = ReadItem(); // a CHARSXP
                var symbol = new RObject(RType.Symbol) { Name = name.Name };
                _refs.Add(symbol);
                return symbol;
            }
            case RType.Environment:
            {
                ReadInt(); // locked
                var environment = new RObject(RType.Environment) { Items = new RObject[3], Name = "environment" };
                _refs.Add(environment); // added before its contents: they may refer back to it
                for (var i = 0; i < 3; i++) environment.Items![i] = ReadItem(); // enclosure, frame, hash table
                environment.Attributes = ToPairs(ReadItem());
                return environment;
            }
            case RType.PairList: case RType.Language: case RType.Closure: case RType.Promise: case RType.Dot:
                return ReadPairList((RType)type, flags);
            case RType.ExternalPointer:
            {
                var ptr = new RObject(RType.ExternalPointer);
                _refs.Add(ptr);
                ReadItem(); // protected value
                ReadItem(); // tag
                ptr.Attributes = hasAttr ? ToPairs(ReadItem()) : [];
                return ptr;
            }
            case RType.WeakRef:
            {
                var weak = new RObject(RType.WeakRef);
                _refs.Add(weak);
                weak.Attributes = hasAttr ? ToPairs(ReadItem()) : [];
                return weak;
            }
            case RType.Special: case RType.Builtin:
            {
                var length = ReadInt();
                return new RObject((RType)type) { Name = Encoding.ASCII.GetString(ReadBytes(length)) };
            }
            case RType.Char:
            {
                var length = ReadInt();
                // NA_STRING is written with length -1. The bytes are UTF-8 or ASCII for every text
                // these data sets hold; latin-1 flagged strings are decoded as such.
                var value = length == -1 ? null
                    : (levels & (1 << 2)) != 0 ? Encoding.Latin1.GetString(ReadBytes(length))
                    : Encoding.UTF8.GetString(ReadBytes(length));
                if (hasAttr) ReadItem(); // old streams may attach attributes to CHARSXPs: read and drop
                return new RObject(RType.Char) { Name = value };
            }
        }

        RObject result = (RType)type switch
        {
            RType.Logical or RType.Integer => new RObject((RType)type) { Integers = ReadInts(ReadLength()) },
            RType.Real => new RObject(RType.Real) { Reals = ReadDoubles(ReadLength()) },
            RType.Complex => new RObject(RType.Complex) { Reals = ReadDoubles(checked(2 * ReadLength())) },
            RType.String => new RObject(RType.String) { Strings = ReadStrings(ReadLength()) },
            RType.List or RType.Expression => new RObject((RType)type) { Items = ReadItems(ReadLength()) },
            RType.Raw => new RObject(RType.Raw) { Raw = ReadBytes(ReadLength()) },
            RType.S4 => new RObject(RType.S4),
            _ => throw new InvalidDataException($"{_name}: R type {type} ({(RType)type}) is not supported by this reader"),
        };
        if (hasAttr) result.Attributes = ToPairs(ReadItem());
        return result;
    }

    /// <summary>Pairlists are read iteratively along their CDR so long lists do not recurse.</summary>
    private RObject ReadPairList(RType type, int flags)
    {
        var pairs = new List<(string?, RObject)>();
        IReadOnlyList<(string?, RObject)> firstAttributes = [];
        var first = true;
        while (true)
        {
            var hasAttr = (flags & HasAttrBit) != 0;
            var hasTag = (flags & HasTagBit) != 0;
            var attributes = hasAttr ? ToPairs(ReadItem()) : [];
            if (first) firstAttributes = attributes;
            var tag = hasTag ? ReadItem().Name : null;
            var car = ReadItem();
            pairs.Add((tag, car));
            first = false;
            var next = ReadInt();
            if ((next & 0xFF) != (int)RType.PairList || type != RType.PairList)
            {
                var cdr = ReadItem(next);
                if (cdr.Type != RType.Nil)
                {
                    // A dotted or code-shaped tail: keep it as an untagged last element.
                    if (cdr.Type == RType.PairList) pairs.AddRange(cdr.Pairs!);
                    else pairs.Add((null, cdr));
                }
                break;
            }
            flags = next;
        }
        return new RObject(type) { Pairs = pairs, Attributes = firstAttributes };
    }

    private RObject ReadAltrep()
    {
        var info = ReadItem();  // pairlist (class symbol, package symbol, type)
        var state = ReadItem();
        var attributes = ReadItem();
        var className = info.Pairs is { Count: > 0 } ? info.Pairs[0].Value.Name : null;
        RObject value = className switch
        {
            "compact_intseq" => CompactSequence(state, integer: true),
            "compact_realseq" => CompactSequence(state, integer: false),
            // wrap_* classes hold list(the wrapped vector, metadata).
            { } c when c.StartsWith("wrap_", StringComparison.Ordinal) => state.Items![0],
            "deferred_string" => DeferredString(state),
            _ => throw new InvalidDataException($"{_name}: ALTREP class '{className}' is not supported"),
        };
        var result = new RObject(value.Type) { Integers = value.Integers, Reals = value.Reals, Strings = value.Strings, Items = value.Items, Raw = value.Raw };
        result.Attributes = attributes.Type == RType.Nil ? value.Attributes : ToPairs(attributes);
        return result;
    }

    private RObject CompactSequence(RObject state, bool integer)
    {
        // state = c(length, first, increment) as doubles.
        if (state.Reals is not { Length: 3 } s) throw new InvalidDataException($"{_name}: malformed compact sequence");
        var n = checked((int)s[0]);
        if (integer) return new RObject(RType.Integer) { Integers = Enumerable.Range(0, n).Select(i => (int)(s[1] + i * s[2])).ToArray() };
        return new RObject(RType.Real) { Reals = Enumerable.Range(0, n).Select(i => s[1] + i * s[2]).ToArray() };
    }

    private RObject DeferredString(RObject state)
    {
        // state = pairlist(the numeric vector, scalar formatting info): render the numbers as R would for integers.
        var source = state.Pairs is { Count: > 0 } p ? p[0].Value : state;
        string?[] strings = source.Integers is { } ints ? ints.Select(i => i == RObject.NaInteger ? null : i.ToString(System.Globalization.CultureInfo.InvariantCulture)).ToArray()
            : source.Reals is { } reals ? reals.Select(r => double.IsNaN(r) ? null : r.ToString("R", System.Globalization.CultureInfo.InvariantCulture)).ToArray()
            : throw new InvalidDataException($"{_name}: malformed deferred string");
        return new RObject(RType.String) { Strings = strings };
    }

    private static IReadOnlyList<(string?, RObject)> ToPairs(RObject attributes) =>
        attributes.Type == RType.Nil ? [] : attributes.Pairs ?? throw new InvalidDataException("R attributes must be a pairlist");

    private string[] ReadStringVector()
    {
        if (ReadInt() != 0) throw new InvalidDataException($"{_name}: names in a persistent reference must start with 0");
        var length = ReadInt();
        var names = new string[length];
        for (var i = 0; i < length; i++) names[i] = ReadItem().Name ?? "";
        return names;
    }

    private int ReadLength()
    {
        var length = ReadInt();
        if (length >= 0) return length;
        if (length != -1) throw new InvalidDataException($"{_name}: negative vector length {length}");
        // Long vectors: two more ints (upper and lower 32 bits).
        long upper = ReadInt(), lower = (uint)ReadInt();
        var total = (upper << 32) + lower;
        if (total > Array.MaxLength) throw new InvalidDataException($"{_name}: vector of {total} elements is too long for this reader");
        return (int)total;
    }

    private RObject[] ReadItems(int length)
    {
        var items = new RObject[length];
        for (var i = 0; i < length; i++) items[i] = ReadItem();
        return items;
    }

    private string?[] ReadStrings(int length)
    {
        var strings = new string?[length];
        for (var i = 0; i < length; i++)
        {
            var item = ReadItem();
            if (item.Type != RType.Char) throw new InvalidDataException($"{_name}: element {i} of a character vector is {item.Type}, not a string");
            strings[i] = item.Name;
        }
        return strings;
    }

    private int ReadInt()
    {
        _stream.ReadExactly(_buffer.AsSpan(0, 4));
        return BinaryPrimitives.ReadInt32BigEndian(_buffer);
    }

    private int[] ReadInts(int length)
    {
        var bytes = ReadBytes(checked(length * 4));
        var values = new int[length];
        for (var i = 0; i < length; i++) values[i] = BinaryPrimitives.ReadInt32BigEndian(bytes.AsSpan(4 * i));
        return values;
    }

    private double[] ReadDoubles(int length)
    {
        var bytes = ReadBytes(checked(length * 8));
        var values = new double[length];
        for (var i = 0; i < length; i++) values[i] = BinaryPrimitives.ReadDoubleBigEndian(bytes.AsSpan(8 * i));
        return values;
    }

    private byte[] ReadBytes(int length)
    {
        if (length < 0) throw new InvalidDataException($"{_name}: negative byte count {length}");
        var bytes = new byte[length];
        _stream.ReadExactly(bytes);
        return bytes;
    }
}
