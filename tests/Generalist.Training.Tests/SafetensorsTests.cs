using System.Diagnostics;
using System.Text;
using System.Text.Json;
using Generalist.Training.Safetensors;
using TorchSharp;
using static TorchSharp.torch;

namespace Generalist.Training.Tests;

public class SafetensorsTests
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

    [Fact]
    public void Round_trip_keeps_names_dtypes_shapes_values_and_metadata()
    {
        using var dir = new TempDir();
        using var scope = NewDisposeScope();
        var path = dir.File("a.safetensors");
        var tensors = Sample();
        SafetensorsWriter.Write(path, tensors, new Dictionary<string, string> { ["format"] = "pt", ["step"] = "7" });
        var file = SafetensorsFile.Open(path);
        Assert.Equal("7", file.Metadata["step"]);
        Assert.Equal(64, file.Metadata[SafetensorsWriter.ChecksumKey].Length);
        var back = file.ReadAll();
        Assert.Equal(tensors.Count, back.Count);
        foreach (var (name, t) in tensors)
        {
            Assert.Equal(t.dtype, back[name].dtype);
            Assert.Equal(t.shape, back[name].shape);
            Assert.True(t.eq(back[name]).all().item<bool>(), name);
        }
        Assert.Empty(Directory.GetFiles(dir.Path, "*.tmp*"));
    }

    [Fact]
    public void A_standard_library_python_reader_parses_a_file_we_wrote()
    {
        using var dir = new TempDir();
        using var scope = NewDisposeScope();
        var path = dir.File("py.safetensors");
        manual_seed(9);
        var w = randn(5, 3);
        var ids = arange(12, dtype: ScalarType.Int64).reshape(3, 4);
        SafetensorsWriter.Write(path, [("w", w), ("ids", ids)]);
        var script = System.IO.Path.Combine(AppContext.BaseDirectory, "Scripts", "read_safetensors.py");
        var psi = new ProcessStartInfo("/usr/bin/python3", [script, path]) { RedirectStandardOutput = true, RedirectStandardError = true };
        using var p = Process.Start(psi)!;
        var stdout = p.StandardOutput.ReadToEnd();
        var stderr = p.StandardError.ReadToEnd();
        Assert.True(p.WaitForExit(30_000));
        Assert.True(p.ExitCode == 0, stderr);
        using var doc = JsonDocument.Parse(stdout);
        var root = doc.RootElement;
        Assert.Equal("F32", root.GetProperty("w").GetProperty("dtype").GetString());
        Assert.Equal([5, 3], root.GetProperty("w").GetProperty("shape").EnumerateArray().Select(x => x.GetInt32()));
        Assert.Equal(w.sum().item<float>(), root.GetProperty("w").GetProperty("sum").GetDouble(), 4);
        Assert.Equal(66.0, root.GetProperty("ids").GetProperty("sum").GetDouble());
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
    public void Random_mutations_are_rejected_cleanly_or_read_consistently()
    {
        // Bounded-time fuzz: mutate bytes of a valid file; Open must either throw InvalidDataException
        // or (only when the mutation hit header padding) return the same entries. Never another exception.
        using var dir = new TempDir();
        using var scope = NewDisposeScope();
        var path = dir.File("f.safetensors");
        SafetensorsWriter.Write(path, Sample());
        var good = File.ReadAllBytes(path);
        var rng = new Random(1234);
        var deadline = Stopwatch.StartNew();
        var target = dir.File("m.safetensors");
        int rejected = 0, accepted = 0;
        for (var i = 0; i < 2000 && deadline.Elapsed < TimeSpan.FromSeconds(5); i++)
        {
            var bytes = (byte[])good.Clone();
            switch (rng.Next(3))
            {
                case 0:
                    for (var k = rng.Next(1, 4); k > 0; k--) bytes[rng.Next(bytes.Length)] = (byte)rng.Next(256);
                    break;
                case 1:
                    bytes = bytes[..rng.Next(bytes.Length)];
                    break;
                default:
                    bytes = [.. bytes, .. new byte[rng.Next(1, 16)]];
                    break;
            }
            File.WriteAllBytes(target, bytes);
            try
            {
                var f = SafetensorsFile.Open(target);
                foreach (var e in f.Entries) f.ReadTensor(e.Name).Dispose();
                accepted++;
            }
            catch (InvalidDataException)
            {
                rejected++;
            }
        }
        Assert.True(rejected > 0);
        Assert.True(accepted < rejected, $"accepted {accepted} mutated files, rejected {rejected}");
    }
}
