using System.Buffers.Binary;
using System.IO.Compression;
using System.Text;

namespace Generalist.Datasets.Tests;

/// <summary>
/// Writes R's XDR serialization (version 3) for test fixtures, the way R's serialize() lays it out:
/// symbols are written once and then referenced (REFSXP), attributes are tagged pairlists, a
/// data.frame carries names, class and compact row.names c(NA, -n).
/// </summary>
internal sealed class RFixtureWriter
{
    private const int HasAttr = 1 << 9, HasTag = 1 << 10, IsObject = 1 << 8, Utf8Level = 1 << 3;
    private readonly MemoryStream _out = new();
    private readonly Dictionary<string, int> _symbols = new();

    public static byte[] Serialize(Action<RFixtureWriter> write)
    {
        var w = new RFixtureWriter();
        w.Bytes("X\n"u8);
        w.Int(3);
        w.Int(4 * 65536 + 2 * 256 + 2); // written by R 4.2.2
        w.Int(3 * 65536 + 5 * 256);     // readable from R 3.5.0
        w.Int(5);
        w.Bytes("UTF-8"u8);
        write(w);
        return w._out.ToArray();
    }

    public void Nil() => Int(254);

    public void Ints(int[] values, params (string Tag, Action<RFixtureWriter> Value)[] attributes) => Vector(13, values.Length, () => { foreach (var v in values) Int(v); }, attributes);
    public void Logicals(int[] values) => Vector(10, values.Length, () => { foreach (var v in values) Int(v); }, []);
    public void Reals(double[] values, params (string, Action<RFixtureWriter>)[] attributes) => Vector(14, values.Length, () => { foreach (var v in values) Double(v); }, attributes);
    public void Strings(string?[] values, params (string, Action<RFixtureWriter>)[] attributes) => Vector(16, values.Length, () => { foreach (var v in values) Char(v); }, attributes);
    public void List(Action<RFixtureWriter>[] items, params (string, Action<RFixtureWriter>)[] attributes) => Vector(19, items.Length, () => { foreach (var item in items) item(this); }, attributes);

    /// <summary>An ALTREP compact integer sequence start, start+1, ..., as R writes `1:n`.</summary>
    public void CompactIntSeq(int n, int start)
    {
        Int(238);
        // info: pairlist(class symbol, package symbol, base type)
        Int(2); Symbol("compact_intseq");
        Int(2); Symbol("base");
        Int(2); Ints([13]);
        Nil();
        Reals([n, start, 1]);
        Nil();
    }

    public void Factor(int[] codes, string[] levels) =>
        Ints(codes, ("levels", w => w.Strings(levels)), ("class", w => w.Strings(["factor"])));

    /// <summary>A data.frame; row.names in the compact form c(NA_integer_, -rows) that R writes.</summary>
    public void DataFrame(int rows, params (string Name, Action<RFixtureWriter> Column)[] columns) =>
        List(columns.Select(c => c.Column).ToArray(),
            ("names", w => w.Strings(columns.Select(c => (string?)c.Name).ToArray())),
            ("class", w => w.Strings(["data.frame"])),
            ("row.names", w => w.Ints([int.MinValue, -rows])));

    private void Vector(int type, int length, Action body, (string Tag, Action<RFixtureWriter> Value)[] attributes)
    {
        var flags = type | (attributes.Length > 0 ? HasAttr : 0) | (attributes.Any(a => a.Tag == "class") ? IsObject : 0);
        Int(flags);
        Int(length);
        body();
        if (attributes.Length > 0) PairList(attributes);
    }

    private void PairList((string Tag, Action<RFixtureWriter> Value)[] pairs)
    {
        foreach (var (tag, value) in pairs)
        {
            Int(2 | HasTag);
            Symbol(tag);
            value(this);
        }
        Nil();
    }

    private void Symbol(string name)
    {
        if (_symbols.TryGetValue(name, out var index))
        {
            Int((index << 8) | 255); // REFSXP with the index packed into the flags
            return;
        }
        _symbols[name] = _symbols.Count + 1;
        Int(1);
        Char(name);
    }

    private void Char(string? value)
    {
        if (value is null)
        {
            Int(9);
            Int(-1);
            return;
        }
        var bytes = Encoding.UTF8.GetBytes(value);
        Int(9 | (Utf8Level << 12));
        Int(bytes.Length);
        Bytes(bytes);
    }

    private void Int(int value)
    {
        Span<byte> b = stackalloc byte[4];
        BinaryPrimitives.WriteInt32BigEndian(b, value);
        _out.Write(b);
    }

    private void Double(double value)
    {
        Span<byte> b = stackalloc byte[8];
        BinaryPrimitives.WriteDoubleBigEndian(b, value);
        _out.Write(b);
    }

    private void Bytes(ReadOnlySpan<byte> bytes) => _out.Write(bytes);

    /// <summary>Writes BASE.rdb (each entry: 4-byte big-endian length + zlib stream) and BASE.rdx (gzip of the index list).</summary>
    public static void WriteLazyLoadDatabase(string basePath, params (string Name, byte[] Serialized)[] variables)
    {
        var positions = new List<(string, int, int)>();
        using (var rdb = File.Create(basePath + ".rdb"))
        {
            foreach (var (name, serialized) in variables)
            {
                var offset = (int)rdb.Position;
                var chunk = new MemoryStream();
                var header = new byte[4];
                BinaryPrimitives.WriteInt32BigEndian(header, serialized.Length);
                chunk.Write(header);
                using (var z = new ZLibStream(chunk, CompressionLevel.Optimal, leaveOpen: true)) z.Write(serialized);
                rdb.Write(chunk.ToArray());
                positions.Add((name, offset, (int)chunk.Length));
            }
        }
        var index = Serialize(w => w.List(
            [
                v => v.List(positions.Select(p => (Action<RFixtureWriter>)(x => x.Ints([p.Item2, p.Item3]))).ToArray(),
                    ("names", n => n.Strings(positions.Select(p => (string?)p.Item1).ToArray()))),
                v => v.List([]),
                v => v.Logicals([1]),
            ],
            ("names", n => n.Strings(["variables", "references", "compressed"]))));
        using var rdx = File.Create(basePath + ".rdx");
        using var gzip = new GZipStream(rdx, CompressionLevel.Optimal);
        gzip.Write(index);
    }
}
