using FsCheck.Xunit;
using Generalist.Episodes;
using Generalist.Packing;
using Generalist.Shards;

namespace Generalist.Tokenizers.Tests;

public sealed class ShardTests : IDisposable
{
    private readonly DirectoryInfo _dir = Directory.CreateTempSubdirectory("shards-");

    public void Dispose() => _dir.Delete(recursive: true);

    private static List<Episode> MixedEpisodes(int seed)
    {
        var rng = new Random(seed);
        var list = new List<Episode>();
        for (var e = 0; e < 6; e++)
        {
            var steps = new List<Timestep>();
            for (var t = 0; t < rng.Next(1, 5); t++)
            {
                var obs = new Observation(
                    rng.Next(2) == 0 ? Fixtures.Sentences[rng.Next(Fixtures.Sentences.Length)] : null,
                    rng.Next(2) == 0 ? Fixtures.RandomImage(rng.Next(1, 9), rng.Next(1, 9), rng.Next(2) * 2 + 1, rng) : null,
                    rng.Next(2) == 0 ? [rng.Next(1024), rng.Next(1024)] : null,
                    rng.Next(2) == 0 ? [(float)rng.NextDouble(), -3.25f] : null);
                ActionValue? action = rng.Next(3) switch { 0 => null, 1 => ActionValue.OfDiscrete(rng.Next(1024)), _ => ActionValue.OfContinuous(0.5f, -1f) };
                steps.Add(new Timestep(obs, action, (float)rng.NextDouble(), ActionScored: action is null || rng.Next(3) != 0));
            }
            list.Add(new Episode("mixed", steps));
        }
        return list;
    }

    private static void AssertSameEpisode(Episode a, Episode b)
    {
        Assert.Equal(a.Task, b.Task);
        Assert.Equal(a.Timesteps.Count, b.Timesteps.Count);
        for (var t = 0; t < a.Timesteps.Count; t++)
        {
            Timestep x = a.Timesteps[t], y = b.Timesteps[t];
            Assert.Equal(x.Reward, y.Reward);
            Assert.Equal(x.Observation.Text, y.Observation.Text);
            Assert.Equal(x.Observation.Discrete, y.Observation.Discrete);
            Assert.Equal(x.Observation.Continuous, y.Observation.Continuous);
            Assert.Equal(x.Observation.Image?.Pixels, y.Observation.Image?.Pixels);
            Assert.Equal((x.Observation.Image?.Height, x.Observation.Image?.Width, x.Observation.Image?.Channels), (y.Observation.Image?.Height, y.Observation.Image?.Width, y.Observation.Image?.Channels));
            Assert.Equal(x.Action?.Discrete, y.Action?.Discrete);
            Assert.Equal(x.Action?.Continuous, y.Action?.Continuous);
            Assert.Equal(x.ActionScored, y.ActionScored);
        }
    }

    private string WriteShard(List<Episode> episodes, string name = "a.shard")
    {
        var path = Path.Combine(_dir.FullName, name);
        ShardWriter.Write(path, "mixed", TaskFamily.VisionLanguage, episodes);
        return path;
    }

    [Fact]
    public void Episodes_round_trip_and_re_tokenize_identically()
    {
        var episodes = MixedEpisodes(1);
        var path = WriteShard(episodes);
        using var reader = new ShardReader(path);
        Assert.Equal(("mixed", TaskFamily.VisionLanguage, episodes.Count), (reader.Task, reader.Family, reader.Count));
        var builder = new SequenceBuilder(Fixtures.Vocab, 512, 4);
        for (var i = episodes.Count - 1; i >= 0; i--) // random access, any order
        {
            var read = reader.Get(i);
            AssertSameEpisode(episodes[i], read);
            Assert.Equal(builder.Build(episodes[i]).Tokens.ToArray(), builder.Build(read).Tokens.ToArray());
            Assert.Equal(builder.Build(episodes[i]).LossFlags.ToArray(), builder.Build(read).LossFlags.ToArray());
        }
        Assert.Empty(Directory.GetFiles(_dir.FullName, "*.tmp-*"));
    }

    [Property(MaxTest = 40, Replay = "(17,3)")]
    public bool Any_corrupted_byte_is_detected_naming_file_and_offset(int position, byte xor)
    {
        var path = WriteShard(MixedEpisodes(2), $"c{Guid.NewGuid():N}.shard");
        var bytes = File.ReadAllBytes(path);
        var at = (int)((uint)position % (uint)bytes.Length);
        bytes[at] ^= xor == 0 ? (byte)1 : xor;
        File.WriteAllBytes(path, bytes);
        var e = Assert.Throws<InvalidDataException>(() => new ShardReader(path).Dispose());
        return e.Message.StartsWith(path) && e.Message.Contains("at offset ");
    }

    [Fact]
    public void Unscored_actions_set_flag_64_and_records_without_it_read_as_scored()
    {
        var scored = new Episode("mixed", [new Timestep(new Observation(Continuous: [1f]), ActionValue.OfDiscrete(2), 1f)]);
        var unscored = new Episode("mixed", [scored.Timesteps[0] with { ActionScored = false }]);
        static byte[] Encode(Episode e)
        {
            using var ms = new MemoryStream();
            EpisodeCodec.Write(ms, e);
            return ms.ToArray();
        }
        var a = Encode(scored);
        var b = Encode(unscored);
        // A scored timestep is written exactly as before the bit existed: old shards read as scored.
        Assert.Equal(ShardFormat.HasContinuous | ShardFormat.HasActionDiscrete, a[4]);
        Assert.Equal(ShardFormat.HasContinuous | ShardFormat.HasActionDiscrete | ShardFormat.ActionNotScored, b[4]);
        Assert.Equal(a.Length, b.Length);
        Assert.True(EpisodeCodec.Read(a, 0, "mixed", "x.shard").Timesteps[0].ActionScored);
        Assert.False(EpisodeCodec.Read(b, 0, "mixed", "x.shard").Timesteps[0].ActionScored);
        // The bit without an action is a corrupted record; a timestep without an action never writes it.
        var noAction = Encode(new Episode("mixed", [new Timestep(new Observation("x"), ActionScored: false)]));
        Assert.Equal(ShardFormat.HasText, noAction[4]);
        noAction[4] |= ShardFormat.ActionNotScored;
        var e = Assert.Throws<InvalidDataException>(() => EpisodeCodec.Read(noAction, 100, "mixed", "x.shard"));
        Assert.Contains("x.shard: corrupted episode record at offset 104: timestep flags mark an action as not scored", e.Message);
        noAction[4] |= 128;
        Assert.Contains("unknown timestep flags", Assert.Throws<InvalidDataException>(() => EpisodeCodec.Read(noAction, 0, "mixed", "x.shard")).Message);
    }

    [Fact]
    public void Every_header_byte_is_checked()
    {
        var path = WriteShard(MixedEpisodes(2));
        var original = File.ReadAllBytes(path);
        for (var at = 0; at < ShardFormat.HeaderSize + "mixed".Length; at++)
        {
            var bytes = (byte[])original.Clone();
            bytes[at] ^= 0x01;
            File.WriteAllBytes(path, bytes);
            var e = Assert.Throws<InvalidDataException>(() => new ShardReader(path).Dispose());
            Assert.StartsWith(path, e.Message);
        }
    }

    [Fact]
    public void A_damaged_record_is_located()
    {
        var path = WriteShard(MixedEpisodes(3));
        var bytes = File.ReadAllBytes(path);
        var recordStart = ShardFormat.HeaderSize + "mixed".Length;
        bytes[recordStart + 6] ^= 0x40; // inside the first record
        File.WriteAllBytes(path, bytes);
        var e = Assert.Throws<InvalidDataException>(() => new ShardReader(path));
        Assert.Contains($"at offset {recordStart}: checksum mismatch; episode record 0", e.Message);
        // Without the checksum pass, reading that record still fails on its own hash.
        using var unverified = new ShardReader(path, verifyChecksum: false);
        Assert.Contains($"at offset {recordStart}", Assert.Throws<InvalidDataException>(() => unverified.Get(0)).Message);
        AssertSameEpisode(MixedEpisodes(3)[1], unverified.Get(1));
    }

    [Property(MaxTest = 25, Replay = "(5,7)")]
    public bool Truncated_shards_are_detected(int cut)
    {
        var path = WriteShard(MixedEpisodes(4), $"t{Guid.NewGuid():N}.shard");
        var bytes = File.ReadAllBytes(path);
        var keep = (int)((uint)cut % (uint)bytes.Length);
        File.WriteAllBytes(path, bytes[..keep]);
        var e = Assert.Throws<InvalidDataException>(() => new ShardReader(path).Dispose());
        return e.Message.Contains(path) && (e.Message.Contains("truncated") || e.Message.Contains($"file has {keep}"));
    }

    [Fact]
    public void An_unfinished_writer_leaves_nothing_behind_and_an_old_shard_intact()
    {
        var path = WriteShard(MixedEpisodes(5));
        var before = File.ReadAllBytes(path);
        using (var writer = new ShardWriter(path, "mixed", TaskFamily.VisionLanguage))
        {
            writer.Add(MixedEpisodes(6)[0]);
            // disposed without Complete()
        }
        Assert.Equal(before, File.ReadAllBytes(path));
        Assert.Single(Directory.GetFiles(_dir.FullName));
        var e = Assert.Throws<ArgumentException>(() =>
        {
            using var w = new ShardWriter(Path.Combine(_dir.FullName, "b.shard"), "other", TaskFamily.Control);
            w.Add(MixedEpisodes(6)[0]);
        });
        Assert.Contains("episode.task 'mixed' differs from the shard's task 'other'", e.Message);
    }

    [Fact]
    public void A_shard_feeds_the_loader()
    {
        var path = Path.Combine(_dir.FullName, "control.shard");
        var source = Fixtures.ControlSource("control", 8, 3, 30, 2, 1, 7);
        ShardWriter.Write(path, "control", TaskFamily.Control, Enumerable.Range(0, source.Count).Select(source.Get));
        using var reader = new ShardReader(path);
        var options = new LoaderOptions(64, 4, 16, 0.25, 3);
        var fromShard = new MixtureLoader([new TaskStream("control", 1, reader)], options, Fixtures.Vocab).Next();
        var fromMemory = new MixtureLoader([new TaskStream("control", 1, source)], options, Fixtures.Vocab).Next();
        MixtureLoaderTests.AssertSameBatch(fromMemory, fromShard);
    }

    [Fact]
    public void Not_a_shard_is_refused()
    {
        var path = Path.Combine(_dir.FullName, "x.shard");
        File.WriteAllBytes(path, new byte[200]);
        Assert.Contains("bad magic", Assert.Throws<InvalidDataException>(() => new ShardReader(path)).Message);
        File.WriteAllBytes(path, []);
        Assert.Contains("at offset 0: truncated", Assert.Throws<InvalidDataException>(() => new ShardReader(path)).Message);
    }
}
