using System.Text;
using System.Text.Json;
using System.Text.Json.Nodes;
using Generalist.Training.Tests;
using Xunit.Abstractions;
using static TorchSharp.torch;
using Generalist.RunFormat.Safetensors;
using Generalist.TestSupport;

namespace Generalist.Reliability.Tests;

/// <summary>
/// Issue 10, scenario 6: malformed inputs are refused with a specific error, in bounded time and
/// memory, never a crash. This part: safetensors (checkpoints). RunConfigs and shards are in the
/// other parts of this class.
/// </summary>
public partial class Scenario06MalformedInput(ITestOutputHelper output)
{
    private static List<(string, Tensor)> Sample()
    {
        manual_seed(5);
        return
        [
            ("blocks.0.attn.weight", randn(6, 4)),
            ("embed", arange(10, dtype: ScalarType.Int64)),
            ("half", randn(3, 2).to(ScalarType.BFloat16)),
            ("scalar", tensor(2.5f)),
            ("empty", zeros(0, 3)),
        ];
    }

    // --- malformed inputs: each must fail with a specific message, before allocating tensors ---

    private static byte[] Build(string headerJson, int dataBytes, ulong? lengthOverride = null)
    {
        var header = Encoding.UTF8.GetBytes(headerJson);
        var result = new byte[8 + header.Length + dataBytes];
        BitConverter.TryWriteBytes(result.AsSpan(0, 8), lengthOverride ?? (ulong)header.Length);
        header.CopyTo(result, 8);
        return result;
    }

    private static string Reject(byte[] bytes, bool requireChecksum = false)
    {
        using var dir = new TempDir();
        var path = dir.File("bad.safetensors");
        File.WriteAllBytes(path, bytes);
        var e = Assert.Throws<InvalidDataException>(() => SafetensorsFile.Open(path, new SafetensorsReadOptions { RequireChecksum = requireChecksum }));
        Assert.StartsWith(path + ": ", e.Message);
        return e.Message;
    }

    [Fact]
    public void Header_over_100_MB_is_rejected_without_reading_it() =>
        Assert.Contains("exceeds the limit", Reject(Build("{}", 0, lengthOverride: 200_000_000)));

    [Fact]
    public void Header_longer_than_the_file_is_rejected() =>
        Assert.Contains("runs past the end", Reject(Build("{}", 0, lengthOverride: 1000)));

    [Fact]
    public void Huge_shape_in_a_tiny_file_is_rejected() =>
        Assert.Contains("too large", Reject(Build("""{"x":{"dtype":"F32","shape":[4611686018427387904,4611686018427387904],"data_offsets":[0,4]}}""", 4)));

    [Fact]
    public void Shape_that_does_not_match_offsets_is_rejected() =>
        Assert.Contains("needs 4000000 bytes", Reject(Build("""{"x":{"dtype":"F32","shape":[1000,1000],"data_offsets":[0,4]}}""", 4)));

    [Fact]
    public void Overlapping_offsets_are_rejected() =>
        Assert.Contains("overlap", Reject(Build("""{"a":{"dtype":"F32","shape":[2],"data_offsets":[0,8]},"b":{"dtype":"F32","shape":[2],"data_offsets":[4,12]}}""", 12)));

    [Fact]
    public void Gapped_offsets_are_rejected() =>
        Assert.Contains("gap", Reject(Build("""{"a":{"dtype":"F32","shape":[1],"data_offsets":[0,4]},"b":{"dtype":"F32","shape":[1],"data_offsets":[8,12]}}""", 12)));

    [Fact]
    public void Trailing_bytes_are_rejected() =>
        Assert.Contains("trailing bytes", Reject(Build("""{"a":{"dtype":"F32","shape":[1],"data_offsets":[0,4]}}""", 9)));

    [Fact]
    public void Truncated_data_is_rejected() =>
        Assert.Contains("truncated", Reject(Build("""{"a":{"dtype":"F32","shape":[4],"data_offsets":[0,16]}}""", 10)));

    [Fact]
    public void Duplicate_keys_are_rejected() =>
        Assert.Contains("duplicate", Reject(Build("""{"a":{"dtype":"F32","shape":[1],"data_offsets":[0,4]},"a":{"dtype":"F32","shape":[1],"data_offsets":[0,4]}}""", 4)));

    [Fact]
    public void Invalid_utf8_is_rejected()
    {
        var bytes = Build("""{"a":{"dtype":"F32","shape":[1],"data_offsets":[0,4]}}""", 4);
        bytes[10] = 0xC3; // a lead byte followed by an ASCII byte: not UTF-8
        bytes[11] = 0x28;
        Assert.Contains("not valid UTF-8", Reject(bytes));
    }

    [Fact]
    public void Unknown_dtype_and_bad_json_are_rejected()
    {
        Assert.Contains("unknown dtype 'F8'", Reject(Build("""{"a":{"dtype":"F8","shape":[1],"data_offsets":[0,1]}}""", 1)));
        Assert.Contains("not valid JSON", Reject(Build("""{"a":""", 0)));
        Assert.Contains("shorter than", Reject([1, 2, 3]));
    }

    [Fact]
    public void Bit_flip_and_truncation_are_caught_by_the_checksum()
    {
        using var dir = new TempDir();
        using var scope = NewDisposeScope();
        var path = dir.File("c.safetensors");
        SafetensorsWriter.Write(path, Sample());
        var good = File.ReadAllBytes(path);
        var flipped = (byte[])good.Clone();
        flipped[^3] ^= 0x10;
        Assert.Contains("checksum mismatch", Reject(flipped, requireChecksum: true));
        Assert.Contains("truncated", Reject(good[..^4], requireChecksum: true));
    }


    [Fact]
    public void Safetensors_fuzz_bounded() => FuzzSafetensors(seed: 1234, TimeSpan.FromSeconds(3), maxCases: 3000);

    [Fact]
    [Trait("Category", "Slow")]
    public void Safetensors_fuzz_long() => FuzzSafetensors(seed: 98765, TimeSpan.FromSeconds(60), maxCases: 200_000);

    /// <summary>
    /// Mutates a valid file (random bytes, truncation, appended bytes, and header JSON edits: huge or
    /// negative shapes and offsets, wrong types, unknown dtypes). Open and reading every tensor must
    /// either throw InvalidDataException or return the entries of a file that is still valid.
    /// </summary>
    private void FuzzSafetensors(int seed, TimeSpan budget, int maxCases)
    {
        using var dir = new TempDir();
        using var scope = NewDisposeScope();
        var path = dir.File("f.safetensors");
        SafetensorsWriter.Write(path, Sample());
        var good = File.ReadAllBytes(path);
        var headerLength = (int)BitConverter.ToUInt64(good);
        var header = JsonNode.Parse(Encoding.UTF8.GetString(good, 8, headerLength))!.AsObject();
        var data = good[(8 + headerLength)..];
        var rng = new Random(seed);
        var target = dir.File("m.safetensors");
        var tally = new FuzzTally("safetensors", seed);
        var mutation = "";
        while (tally.KeepGoing(budget, maxCases))
        {
            var bytes = (byte[])good.Clone();
            switch (rng.Next(4))
            {
                case 0:
                    mutation = "random bytes";
                    for (var k = rng.Next(1, 4); k > 0; k--) bytes[rng.Next(bytes.Length)] = (byte)rng.Next(256);
                    break;
                case 1:
                    mutation = "truncation";
                    bytes = bytes[..rng.Next(bytes.Length)];
                    break;
                case 2:
                    mutation = "appended bytes";
                    bytes = [.. bytes, .. new byte[rng.Next(1, 16)]];
                    break;
                default:
                    (mutation, bytes) = MutateHeader(header, data, rng);
                    break;
            }
            File.WriteAllBytes(target, bytes);
            tally.Case<InvalidDataException>(() =>
            {
                var f = SafetensorsFile.Open(target);
                foreach (var e in f.Entries) f.ReadTensor(e.Name).Dispose();
            }, e =>
            {
                Assert.StartsWith(target + ": ", e.Message);
                return FuzzTally.Normalize(e.Message, target);
            }, () => mutation);
        }
        tally.Report(new Figures(output, "6"));
        Assert.True(tally.Accepted < tally.Rejected.Values.Sum(), $"accepted {tally.Accepted} mutated files");
        Assert.True(tally.MaxCaseBytes < 64L << 20, $"one case allocated {tally.MaxCaseBytes} bytes");
    }

    private static (string, byte[]) MutateHeader(JsonObject original, byte[] data, Random rng)
    {
        var header = original.DeepClone().AsObject();
        var names = header.Select(p => p.Key).Where(k => k != "__metadata__").ToList();
        var entry = header[names[rng.Next(names.Count)]]!.AsObject();
        JsonNode? Weird() => rng.Next(8) switch
        {
            0 => JsonValue.Create(long.MaxValue),
            1 => JsonValue.Create(-rng.Next(1, 1000)),
            2 => JsonValue.Create(rng.Next(0, 200)),
            3 => JsonValue.Create(1e300),
            4 => JsonValue.Create("12"),
            5 => null,
            6 => new JsonArray(),
            _ => JsonValue.Create(ulong.MaxValue),
        };
        string what;
        switch (rng.Next(5))
        {
            case 0:
                what = "shape element";
                var shape = entry["shape"]!.AsArray();
                if (shape.Count == 0) shape.Add(Weird()); else shape[rng.Next(shape.Count)] = Weird();
                break;
            case 1:
                what = "data_offsets element";
                entry["data_offsets"]!.AsArray()[rng.Next(2)] = Weird();
                break;
            case 2:
                what = "dtype";
                entry["dtype"] = rng.Next(3) switch { 0 => "F8", 1 => "", _ => JsonValue.Create(3) };
                break;
            case 3:
                what = "extra shape dimensions";
                var dims = entry["shape"]!.AsArray();
                for (var k = rng.Next(1, 40); k > 0; k--) dims.Add(JsonValue.Create(rng.Next(0, 1 << 20)));
                break;
            default:
                what = "entry replaced";
                header[names[rng.Next(names.Count)]] = Weird();
                break;
        }
        var json = Encoding.UTF8.GetBytes(header.ToJsonString());
        var bytes = new byte[8 + json.Length + data.Length];
        BitConverter.TryWriteBytes(bytes.AsSpan(0, 8), (ulong)json.Length);
        json.CopyTo(bytes, 8);
        data.CopyTo(bytes, 8 + json.Length);
        return ($"header {what}: {header.ToJsonString()}", bytes);
    }
}
