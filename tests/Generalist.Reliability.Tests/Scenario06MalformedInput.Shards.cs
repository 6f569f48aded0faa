using System.Buffers.Binary;
using System.Security.Cryptography;
using Generalist.Training.Tests;
using Generalist.Episodes;
using Generalist.Shards;
using Generalist.TestSupport;

namespace Generalist.Reliability.Tests;

/// <summary>
/// Scenario 6, data shards (tokenizers/SHARDS.md): mutated headers, index entries, records,
/// truncation and appended bytes are refused with an InvalidDataException naming the file and the
/// offset. Mutations are re-signed (file checksum and record hashes recomputed) half the time, so
/// they reach the structural checks behind the checksum, and every shard is also opened without
/// the checksum pass, as large shards are.
/// </summary>
public partial class Scenario06MalformedInput
{
    [Fact]
    public void Shard_fuzz_bounded() => FuzzShards(seed: 31, TimeSpan.FromSeconds(3), maxCases: 5000);

    [Fact]
    [Trait("Category", "Slow")]
    public void Shard_fuzz_long() => FuzzShards(seed: 313131, TimeSpan.FromSeconds(60), maxCases: 500_000);

    [Fact]
    public void An_index_entry_pointing_past_the_file_is_refused_even_without_the_checksum_pass()
    {
        using var dir = new TempDir();
        var path = dir.File("a.shard");
        ShardWriter.Write(path, "mixed", TaskFamily.Control, Episodes(3));
        var bytes = File.ReadAllBytes(path);
        var indexOffset = (int)BinaryPrimitives.ReadUInt64LittleEndian(bytes.AsSpan(ShardFormat.IndexOffsetOffset));
        // The last entry: its record now "starts" far beyond the end of the file.
        var last = indexOffset + 2 * ShardFormat.IndexEntrySize;
        BinaryPrimitives.WriteUInt64LittleEndian(bytes.AsSpan(last), 1UL << 40);
        Resign(bytes);
        File.WriteAllBytes(path, bytes);
        foreach (var verify in new[] { true, false })
        {
            var e = Assert.Throws<InvalidDataException>(() => new ShardReader(path, verify).Dispose());
            Assert.StartsWith(path + ": corrupted shard at offset", e.Message);
            Assert.Contains("index entry 2", e.Message);
        }
    }

    private void FuzzShards(int seed, TimeSpan budget, int maxCases)
    {
        using var dir = new TempDir();
        var source = dir.File("good.shard");
        ShardWriter.Write(source, "mixed", TaskFamily.VisionLanguage, Episodes(seed));
        var good = File.ReadAllBytes(source);
        var rng = new Random(seed);
        var tally = new FuzzTally("shard", seed);
        var target = dir.File("m.shard");
        while (tally.KeepGoing(budget, maxCases))
        {
            var (mutation, bytes) = MutateShard(good, rng);
            File.WriteAllBytes(target, bytes);
            var verify = rng.Next(2) == 0;
            tally.Case<InvalidDataException>(() =>
            {
                using var reader = new ShardReader(target, verify);
                for (var i = 0; i < reader.Count; i++) reader.Get(i);
            }, e =>
            {
                Assert.StartsWith(target + ": corrupted ", e.Message);
                Assert.Contains(" at offset ", e.Message);
                return FuzzTally.Normalize(e.Message[(e.Message.IndexOf(": ", target.Length + 2, StringComparison.Ordinal) + 2)..]);
            }, () => $"{mutation} (checksum pass {(verify ? "on" : "off")})");
        }
        tally.Report(new Figures(output, "6"));
        Assert.True(tally.Rejected.Values.Sum() > tally.Cases / 2, $"only {tally.Rejected.Values.Sum()} of {tally.Cases} mutated shards were refused");
        Assert.True(tally.MaxCaseBytes < 64L << 20, $"one case allocated {tally.MaxCaseBytes} bytes");
    }

    private static (string, byte[]) MutateShard(byte[] good, Random rng)
    {
        var bytes = (byte[])good.Clone();
        var indexOffset = (int)BinaryPrimitives.ReadUInt64LittleEndian(bytes.AsSpan(ShardFormat.IndexOffsetOffset));
        var count = (int)BinaryPrimitives.ReadUInt64LittleEndian(bytes.AsSpan(ShardFormat.EpisodeCountOffset));
        ulong Boundary() => rng.Next(7) switch
        {
            0 => 0,
            1 => ulong.MaxValue,
            2 => (ulong)long.MaxValue,
            3 => (ulong)bytes.Length + (ulong)rng.Next(-64, 64),
            4 => (ulong)indexOffset + (ulong)rng.Next(-64, 64),
            5 => 1UL << rng.Next(0, 64),
            _ => (ulong)rng.NextInt64(),
        };
        string what;
        switch (rng.Next(7))
        {
            case 0:
            {
                int[] fields = [ShardFormat.VersionOffset, ShardFormat.FamilyOffset, ShardFormat.TaskNameLengthOffset, ShardFormat.ReservedOffset];
                var at = fields[rng.Next(fields.Length)];
                var value = (uint)Boundary();
                BinaryPrimitives.WriteUInt32LittleEndian(bytes.AsSpan(at), value);
                what = $"header u32 at {at} = {value}";
                break;
            }
            case 1:
            {
                int[] fields = [ShardFormat.EpisodeCountOffset, ShardFormat.IndexOffsetOffset, ShardFormat.FileLengthOffset];
                var at = fields[rng.Next(fields.Length)];
                var value = Boundary();
                BinaryPrimitives.WriteUInt64LittleEndian(bytes.AsSpan(at), value);
                what = $"header u64 at {at} = {value}";
                break;
            }
            case 2:
            {
                var entry = rng.Next(count);
                var field = rng.Next(2) * 8; // record offset or record length
                var value = Boundary();
                BinaryPrimitives.WriteUInt64LittleEndian(bytes.AsSpan(indexOffset + entry * ShardFormat.IndexEntrySize + field), value);
                what = $"index entry {entry} {(field == 0 ? "offset" : "length")} = {value}";
                break;
            }
            case 3:
            {
                // Inside a record: counts and sizes turned hostile, with the record hash re-signed below.
                var entry = rng.Next(count);
                var e = indexOffset + entry * ShardFormat.IndexEntrySize;
                var offset = (int)BinaryPrimitives.ReadUInt64LittleEndian(bytes.AsSpan(e));
                var length = (int)BinaryPrimitives.ReadUInt64LittleEndian(bytes.AsSpan(e + 8));
                var at = offset + rng.Next(Math.Max(1, length - 3));
                if (rng.Next(2) == 0) bytes[at] = (byte)rng.Next(256);
                else BinaryPrimitives.WriteUInt32LittleEndian(bytes.AsSpan(at), (uint)Boundary());
                what = $"record {entry} bytes at {at}";
                break;
            }
            case 4:
                var keep = rng.Next(bytes.Length);
                bytes = bytes[..keep];
                what = $"truncated to {keep}";
                break;
            case 5:
                bytes = [.. bytes, .. new byte[rng.Next(1, 64)]];
                what = "appended bytes";
                break;
            default:
                for (var k = rng.Next(1, 4); k > 0; k--) bytes[rng.Next(bytes.Length)] = (byte)rng.Next(256);
                what = "random bytes";
                break;
        }
        if (rng.Next(2) == 0 && Resign(bytes)) what += ", re-signed";
        return (what, bytes);
    }

    /// <summary>
    /// Recomputes every record hash the index still points at sanely and the file checksum, as a
    /// writer would have: the shard then differs from a valid one only in its structure.
    /// </summary>
    private static bool Resign(byte[] bytes)
    {
        if (bytes.Length < ShardFormat.HeaderSize) return false;
        var indexOffset = BinaryPrimitives.ReadUInt64LittleEndian(bytes.AsSpan(ShardFormat.IndexOffsetOffset));
        var count = BinaryPrimitives.ReadUInt64LittleEndian(bytes.AsSpan(ShardFormat.EpisodeCountOffset));
        if (indexOffset <= (ulong)bytes.Length && count <= ((ulong)bytes.Length - indexOffset) / ShardFormat.IndexEntrySize)
        {
            for (var i = 0; i < (int)count; i++)
            {
                var e = (int)indexOffset + i * ShardFormat.IndexEntrySize;
                var offset = BinaryPrimitives.ReadUInt64LittleEndian(bytes.AsSpan(e));
                var length = BinaryPrimitives.ReadUInt64LittleEndian(bytes.AsSpan(e + 8));
                if (offset > (ulong)bytes.Length || length > (ulong)bytes.Length - offset) continue;
                var digest = SHA256.HashData(bytes.AsSpan((int)offset, (int)length));
                digest.AsSpan(0, 8).CopyTo(bytes.AsSpan(e + 16));
            }
        }
        bytes.AsSpan(ShardFormat.ChecksumOffset, 32).Clear();
        SHA256.HashData(bytes).CopyTo(bytes.AsSpan(ShardFormat.ChecksumOffset));
        return true;
    }

    /// <summary>Episodes with every field kind (text, images, values, both action kinds), seeded.</summary>
    private static List<Episode> Episodes(int seed)
    {
        var rng = new Random(seed);
        var list = new List<Episode>();
        for (var e = 0; e < 5; e++)
        {
            var steps = new List<Timestep>();
            for (var t = rng.Next(1, 4); t > 0; t--)
            {
                var pixels = new byte[4 * 3 * 3];
                rng.NextBytes(pixels);
                var observation = new Observation(
                    rng.Next(2) == 0 ? "a cat on a mat" : null,
                    rng.Next(2) == 0 ? new ImageData(4, 3, 3, pixels) : null,
                    rng.Next(2) == 0 ? [rng.Next(1024), rng.Next(1024)] : null,
                    rng.Next(2) == 0 ? [(float)rng.NextDouble(), -3.25f] : null);
                var action = rng.Next(3) switch { 0 => null, 1 => ActionValue.OfDiscrete(rng.Next(1024)), _ => ActionValue.OfContinuous(0.5f, -1f) };
                steps.Add(new Timestep(observation, action, (float)rng.NextDouble()));
            }
            list.Add(new Episode("mixed", steps));
        }
        return list;
    }
}
