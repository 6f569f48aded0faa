using System.Security.Cryptography;
using System.Text;
using System.Text.Json;
using static TorchSharp.torch;

namespace Generalist.RunFormat.Safetensors;

/// <summary>One tensor's entry in a validated header.</summary>
public sealed record SafetensorsEntry(string Name, string DType, long[] Shape, long Begin, long End);

/// <summary>Limits the reader enforces before it allocates anything.</summary>
public sealed record SafetensorsReadOptions
{
    /// <summary>Largest accepted JSON header (the reference implementation's cap is 100 MB).</summary>
    public long MaxHeaderBytes { get; init; } = 100_000_000;
    /// <summary>Refuse files without a `sha256` in `__metadata__` (every file this project writes has one).</summary>
    public bool RequireChecksum { get; init; } = true;
    /// <summary>Largest number of dimensions per tensor.</summary>
    public int MaxRank { get; init; } = 16;
}

/// <summary>
/// A safetensors file whose header, offsets and checksum have been validated. Opening reads only
/// the header and streams the data section through SHA-256; tensors are allocated only by
/// <see cref="ReadTensor"/>, after every size has been checked against the file. Written by hand
/// for the reason given on <see cref="SafetensorsWriter"/>.
/// </summary>
public sealed class SafetensorsFile
{
    private static readonly UTF8Encoding StrictUtf8 = new(encoderShouldEmitUTF8Identifier: false, throwOnInvalidBytes: true);

    private SafetensorsFile(string path, long dataStart, IReadOnlyList<SafetensorsEntry> entries, IReadOnlyDictionary<string, string> metadata)
    {
        Path = path;
        DataStart = dataStart;
        Entries = entries;
        Metadata = metadata;
    }

    public string Path { get; }
    public long DataStart { get; }
    /// <summary>Entries in data order.</summary>
    public IReadOnlyList<SafetensorsEntry> Entries { get; }
    public IReadOnlyDictionary<string, string> Metadata { get; }

    /// <summary>Validates the whole file; throws an InvalidDataException naming the file and the problem.</summary>
    public static SafetensorsFile Open(string path, SafetensorsReadOptions? options = null)
    {
        options ??= new();
        if (!File.Exists(path)) throw SafetensorsError.At(path, "file not found");
        using var file = new FileStream(path, FileMode.Open, FileAccess.Read, FileShare.Read, 1 << 16);
        var fileLength = file.Length;
        if (fileLength < 8) throw SafetensorsError.At(path, $"file is {fileLength} bytes, shorter than the 8-byte header length");
        Span<byte> lengthBytes = stackalloc byte[8];
        file.ReadExactly(lengthBytes);
        var headerLength = BitConverter.ToUInt64(lengthBytes);
        if (headerLength > (ulong)options.MaxHeaderBytes)
            throw SafetensorsError.At(path, $"header length {headerLength} exceeds the limit of {options.MaxHeaderBytes} bytes");
        if (headerLength < 2) throw SafetensorsError.At(path, $"header length {headerLength} is too small for a JSON object");
        if (headerLength > (ulong)(fileLength - 8))
            throw SafetensorsError.At(path, $"header length {headerLength} runs past the end of the {fileLength}-byte file (truncated?)");

        var header = new byte[headerLength];
        file.ReadExactly(header);
        var dataStart = 8 + (long)headerLength;
        var dataLength = fileLength - dataStart;

        string text;
        try
        {
            text = StrictUtf8.GetString(header);
        }
        catch (DecoderFallbackException e)
        {
            throw SafetensorsError.At(path, $"header is not valid UTF-8 (at byte {e.Index})");
        }

        var (entries, metadata) = ParseHeader(path, text, options);
        CheckOffsets(path, entries, dataLength);
        if (metadata.TryGetValue(SafetensorsWriter.ChecksumKey, out var expected))
        {
            using var sha = IncrementalHash.CreateHash(HashAlgorithmName.SHA256);
            var buffer = new byte[1 << 20];
            int n;
            while ((n = file.Read(buffer)) > 0) sha.AppendData(buffer, 0, n);
            var actual = Convert.ToHexStringLower(sha.GetHashAndReset());
            if (!string.Equals(actual, expected, StringComparison.OrdinalIgnoreCase))
                throw SafetensorsError.At(path, $"checksum mismatch: the data section hashes to {actual[..16]}..., the header says {expected[..Math.Min(16, expected.Length)]}... (corrupted or truncated)");
        }
        else if (options.RequireChecksum)
        {
            throw SafetensorsError.At(path, $"__metadata__ has no '{SafetensorsWriter.ChecksumKey}' checksum");
        }
        return new SafetensorsFile(path, dataStart, entries, metadata);
    }

    private static (List<SafetensorsEntry>, Dictionary<string, string>) ParseHeader(string path, string text, SafetensorsReadOptions options)
    {
        JsonDocument doc;
        try
        {
            doc = JsonDocument.Parse(text, new JsonDocumentOptions { MaxDepth = 8, AllowDuplicateProperties = false });
        }
        catch (JsonException e)
        {
            var dup = e.Message.Contains("duplicate", StringComparison.OrdinalIgnoreCase);
            throw SafetensorsError.At(path, dup ? $"header has a duplicate key: {e.Message}" : $"header is not valid JSON: {e.Message}");
        }
        using (doc)
        {
            if (doc.RootElement.ValueKind != JsonValueKind.Object) throw SafetensorsError.At(path, "header is not a JSON object");
            var entries = new List<SafetensorsEntry>();
            var metadata = new Dictionary<string, string>(StringComparer.Ordinal);
            foreach (var prop in doc.RootElement.EnumerateObject())
            {
                if (prop.Name == "__metadata__")
                {
                    if (prop.Value.ValueKind != JsonValueKind.Object) throw SafetensorsError.At(path, "__metadata__ is not an object");
                    foreach (var m in prop.Value.EnumerateObject())
                    {
                        if (m.Value.ValueKind != JsonValueKind.String) throw SafetensorsError.At(path, $"__metadata__.{m.Name} is not a string");
                        metadata[m.Name] = m.Value.GetString()!;
                    }
                    continue;
                }
                entries.Add(ParseEntry(path, prop, options));
            }
            return (entries, metadata);
        }
    }

    private static SafetensorsEntry ParseEntry(string path, JsonProperty prop, SafetensorsReadOptions options)
    {
        var name = prop.Name;
        if (name.Length == 0) throw SafetensorsError.At(path, "a tensor has an empty name");
        var v = prop.Value;
        if (v.ValueKind != JsonValueKind.Object) throw SafetensorsError.At(path, $"tensor '{name}': entry is not an object");
        string? dtype = null;
        long[]? shape = null;
        long[]? offsets = null;
        foreach (var f in v.EnumerateObject())
        {
            switch (f.Name)
            {
                case "dtype" when f.Value.ValueKind == JsonValueKind.String:
                    dtype = f.Value.GetString();
                    break;
                case "shape":
                    shape = Integers(path, name, "shape", f.Value, options.MaxRank);
                    break;
                case "data_offsets":
                    offsets = Integers(path, name, "data_offsets", f.Value, 2);
                    break;
                default:
                    throw SafetensorsError.At(path, $"tensor '{name}': unexpected field '{f.Name}'");
            }
        }
        if (dtype is null) throw SafetensorsError.At(path, $"tensor '{name}': missing string field 'dtype'");
        if (shape is null) throw SafetensorsError.At(path, $"tensor '{name}': missing field 'shape'");
        if (offsets is not { Length: 2 }) throw SafetensorsError.At(path, $"tensor '{name}': 'data_offsets' must be [begin, end]");
        if (!SafetensorsDType.TryParse(dtype, out _, out var elementSize))
            throw SafetensorsError.At(path, $"tensor '{name}': unknown dtype '{dtype}' (allowed: {SafetensorsDType.Allowed})");
        if (offsets[1] < offsets[0]) throw SafetensorsError.At(path, $"tensor '{name}': data_offsets end {offsets[1]} is before begin {offsets[0]}");
        // Overflow-safe product: a huge shape in a tiny file must fail here, not in an allocation.
        // The extent (zero dimensions counted as 1) must fit as well: libtorch computes strides from
        // it even for an empty tensor, and [0, 2^40, 2^40] would overflow them.
        Int128 bytes = elementSize;
        Int128 extent = elementSize;
        foreach (var d in shape)
        {
            bytes *= d;
            extent *= Math.Max(d, 1);
            if (extent > long.MaxValue) throw SafetensorsError.At(path, $"tensor '{name}': shape [{string.Join(", ", shape)}] is too large");
        }
        if (bytes != offsets[1] - offsets[0])
            throw SafetensorsError.At(path, $"tensor '{name}': shape [{string.Join(", ", shape)}] of {dtype} needs {bytes} bytes but data_offsets span {offsets[1] - offsets[0]}");
        return new SafetensorsEntry(name, dtype, shape, offsets[0], offsets[1]);
    }

    private static long[] Integers(string path, string name, string field, JsonElement array, int maxCount)
    {
        if (array.ValueKind != JsonValueKind.Array) throw SafetensorsError.At(path, $"tensor '{name}': '{field}' is not an array");
        var count = array.GetArrayLength();
        if (count > maxCount) throw SafetensorsError.At(path, $"tensor '{name}': '{field}' has {count} entries (at most {maxCount})");
        var result = new long[count];
        var i = 0;
        foreach (var x in array.EnumerateArray())
        {
            if (x.ValueKind != JsonValueKind.Number || !x.TryGetInt64(out var n) || n < 0)
                throw SafetensorsError.At(path, $"tensor '{name}': '{field}' entries must be non-negative integers");
            result[i++] = n;
        }
        return result;
    }

    /// <summary>Data sections must tile [0, dataLength) exactly: in order, no gaps, no overlaps, no trailing bytes.</summary>
    private static void CheckOffsets(string path, List<SafetensorsEntry> entries, long dataLength)
    {
        entries.Sort((a, b) => a.Begin != b.Begin ? a.Begin.CompareTo(b.Begin) : a.End.CompareTo(b.End));
        long expected = 0;
        foreach (var e in entries)
        {
            if (e.Begin < expected) throw SafetensorsError.At(path, $"tensor '{e.Name}': data_offsets [{e.Begin}, {e.End}] overlap the previous tensor (ends at {expected})");
            if (e.Begin > expected) throw SafetensorsError.At(path, $"tensor '{e.Name}': data_offsets begin at {e.Begin}, leaving a gap after byte {expected}");
            expected = e.End;
        }
        if (expected > dataLength) throw SafetensorsError.At(path, $"data section is {dataLength} bytes but the header describes {expected} (truncated?)");
        if (expected < dataLength) throw SafetensorsError.At(path, $"{dataLength - expected} trailing bytes after the last tensor");
    }

    /// <summary>Allocates and reads one tensor (CPU). Sizes were validated by <see cref="Open"/>.</summary>
    public Tensor ReadTensor(string name)
    {
        var entry = Entries.FirstOrDefault(e => e.Name == name)
            ?? throw SafetensorsError.At(Path, $"has no tensor named '{name}'");
        SafetensorsDType.TryParse(entry.DType, out var type, out _);
        var tensor = empty(entry.Shape, type);
        try
        {
            using var file = new FileStream(Path, FileMode.Open, FileAccess.Read, FileShare.Read, 1);
            if (file.Length != DataStart + Entries[^1].End) throw SafetensorsError.At(Path, "changed size since it was validated");
            file.Position = DataStart + entry.Begin;
            file.ReadExactly(tensor.bytes);
            return tensor;
        }
        catch
        {
            tensor.Dispose();
            throw;
        }
    }

    /// <summary>Reads every tensor, keyed by name.</summary>
    public Dictionary<string, Tensor> ReadAll() => Entries.ToDictionary(e => e.Name, e => ReadTensor(e.Name), StringComparer.Ordinal);
}
