using System.Buffers.Binary;
using System.IO.Compression;

namespace Generalist.Datasets.Parsers.R;

/// <summary>
/// Reads an R package's lazy-load data base (`data/Rdata.rdx` + `data/Rdata.rdb`) without R,
/// written by hand after R's src/library/base/R/lazyload.R and serialize.c (no held package reads it).
/// The .rdx is a compressed serialization of list(variables =, references =, compressed =), where
/// each variable maps to c(offset, length) in the .rdb. Each .rdb entry is a 4-byte big-endian
/// uncompressed length followed by a zlib stream (compression type 1; types 2 and 3 add a byte
/// naming the method: '1' zlib, '0' none are read, bzip2 and xz are refused).
/// </summary>
public sealed class RLazyLoadDatabase
{
    private readonly string _rdbPath;
    private readonly Dictionary<string, (long Offset, int Length)> _variables;
    private readonly int _compression;

    private RLazyLoadDatabase(string rdbPath, Dictionary<string, (long, int)> variables, int compression)
    {
        _rdbPath = rdbPath;
        _variables = variables;
        _compression = compression;
    }

    /// <summary>Opens `BASE.rdx` and `BASE.rdb`; <paramref name="basePath"/> is e.g. `.../dslabs/data/Rdata`.</summary>
    public static RLazyLoadDatabase Open(string basePath)
    {
        var rdx = basePath + ".rdx";
        var rdb = basePath + ".rdb";
        foreach (var f in new[] { rdx, rdb })
            if (!File.Exists(f)) throw new FileNotFoundException($"R lazy-load file {f} does not exist", f);

        var index = RXdrReader.Unserialize(Decompress(File.ReadAllBytes(rdx), rdx), rdx);
        var variables = ListElement(index, "variables", rdx);
        var names = variables.Attribute("names")?.Strings ?? throw new InvalidDataException($"{rdx}: `variables` has no names");
        var map = new Dictionary<string, (long, int)>(StringComparer.Ordinal);
        for (var i = 0; i < names.Length; i++)
        {
            var pos = variables.Items![i];
            var (offset, length) = pos.Integers is { Length: 2 } ints ? ((long)ints[0], ints[1])
                : pos.Reals is { Length: 2 } reals ? ((long)reals[0], (int)reals[1])
                : throw new InvalidDataException($"{rdx}: the position of `{names[i]}` is not c(offset, length)");
            map[names[i] ?? ""] = (offset, length);
        }
        var compressed = ListElement(index, "compressed", rdx);
        var compression = compressed.Integers is { Length: 1 } c ? c[0] : compressed.Reals is { Length: 1 } r ? (int)r[0] : 1;
        return new RLazyLoadDatabase(rdb, map, compression);
    }

    public IReadOnlyCollection<string> Names => _variables.Keys;

    /// <summary>Reads and unserializes one variable (e.g. "movielens").</summary>
    public RObject Read(string name)
    {
        if (!_variables.TryGetValue(name, out var position))
            throw new KeyNotFoundException($"{_rdbPath}: no variable `{name}` (it holds: {string.Join(", ", _variables.Keys.Order())})");
        using var file = File.OpenRead(_rdbPath);
        if (position.Offset < 0 || position.Length < 4 || position.Offset + position.Length > file.Length)
            throw new InvalidDataException($"{_rdbPath}: entry `{name}` at {position.Offset}+{position.Length} lies outside the file ({file.Length} bytes)");
        file.Seek(position.Offset, SeekOrigin.Begin);
        var chunk = new byte[position.Length];
        file.ReadExactly(chunk);
        return RXdrReader.Unserialize(DecompressEntry(chunk, name), $"{_rdbPath}:{name}");
    }

    private byte[] DecompressEntry(byte[] chunk, string name)
    {
        var expected = BinaryPrimitives.ReadInt32BigEndian(chunk);
        var body = chunk.AsSpan(4);
        var method = '1';
        if (_compression is 2 or 3)
        {
            method = (char)body[0];
            body = body[1..];
        }
        byte[] data = method switch
        {
            '0' => body.ToArray(),
            '1' => Inflate(body.ToArray()),
            _ => throw new InvalidDataException($"{_rdbPath}: entry `{name}` uses compression '{method}' (bzip2 or xz); only zlib and none are read"),
        };
        if (data.Length != expected)
            throw new InvalidDataException($"{_rdbPath}: entry `{name}` inflates to {data.Length} bytes, its header says {expected}");
        return data;
    }

    private static RObject ListElement(RObject list, string name, string file)
    {
        var names = list.Attribute("names")?.Strings;
        var i = names is null ? -1 : Array.IndexOf(names, name);
        if (i < 0 || list.Items is null) throw new InvalidDataException($"{file}: the index has no `{name}` element");
        return list.Items[i];
    }

    /// <summary>The .rdx is gzip (saveRDS) or zlib or plain; recognised by its first bytes.</summary>
    private static byte[] Decompress(byte[] bytes, string file)
    {
        if (bytes.Length >= 2 && bytes[0] == 0x1f && bytes[1] == 0x8b)
        {
            using var gzip = new GZipStream(new MemoryStream(bytes), CompressionMode.Decompress);
            using var output = new MemoryStream();
            gzip.CopyTo(output);
            return output.ToArray();
        }
        if (bytes.Length >= 2 && bytes[0] == 0x78) return Inflate(bytes);
        if (bytes.Length >= 2 && bytes[0] == (byte)'X' && bytes[1] == (byte)'\n') return bytes;
        throw new InvalidDataException($"{file}: not a gzip, zlib or XDR serialization");
    }

    private static byte[] Inflate(byte[] zlib)
    {
        using var stream = new ZLibStream(new MemoryStream(zlib), CompressionMode.Decompress);
        using var output = new MemoryStream();
        stream.CopyTo(output);
        return output.ToArray();
    }
}
