using System.Buffers.Binary;
using System.Runtime.InteropServices;
using System.Security.Cryptography;
using System.Text;
using Generalist.Episodes;
using Generalist.Tokenizers;

namespace Generalist.Shards;

/// <summary>
/// One episode record of a shard (tokenizers/SHARDS.md, "Episode record"): episodes are stored
/// untokenized (text, pixels, values, actions, rewards) so they can be re-tokenized with any
/// patch size or vocabulary.
/// </summary>
internal static class EpisodeCodec
{
    public static ulong RecordHash(ReadOnlySpan<byte> record)
    {
        Span<byte> digest = stackalloc byte[32];
        SHA256.HashData(record, digest);
        return BinaryPrimitives.ReadUInt64LittleEndian(digest);
    }

    public static void Write(Stream s, Episode episode)
    {
        if (episode.Timesteps is null) throw new ArgumentException($"episode of task '{episode.Task}': timesteps must not be null");
        Span<byte> b = stackalloc byte[16];
        WriteU32(s, b, (uint)episode.Timesteps.Count);
        for (var t = 0; t < episode.Timesteps.Count; t++)
        {
            var step = episode.Timesteps[t] ?? throw new ArgumentException($"timesteps[{t}] must not be null");
            var o = step.Observation ?? throw new ArgumentException($"timesteps[{t}].observation must not be null");
            var a = step.Action;
            if (a is { Discrete: not null, Continuous: not null }) throw new ArgumentException($"timesteps[{t}].action must hold only one of discrete or continuous");
            byte flags = 0;
            if (o.Text is not null) flags |= ShardFormat.HasText;
            if (o.Image is not null) flags |= ShardFormat.HasImage;
            if (o.Discrete is not null) flags |= ShardFormat.HasDiscrete;
            if (o.Continuous is not null) flags |= ShardFormat.HasContinuous;
            if (a?.Discrete is not null) flags |= ShardFormat.HasActionDiscrete;
            if (a?.Continuous is not null) flags |= ShardFormat.HasActionContinuous;
            if (a is not null && !step.ActionScored) flags |= ShardFormat.ActionNotScored;
            s.WriteByte(flags);
            BinaryPrimitives.WriteSingleLittleEndian(b, step.Reward);
            s.Write(b[..4]);
            if (o.Text is { } text)
            {
                var bytes = Encoding.UTF8.GetBytes(text);
                WriteU32(s, b, (uint)bytes.Length);
                s.Write(bytes);
            }
            if (o.Image is { } image)
            {
                ImagePatcher.Validate(image, $"timesteps[{t}].observation.image");
                WriteU32(s, b, (uint)image.Height);
                WriteU32(s, b, (uint)image.Width);
                WriteU32(s, b, (uint)image.Channels);
                s.Write(image.Pixels);
            }
            if (o.Discrete is { } d) WriteInts(s, b, d);
            if (o.Continuous is { } c) WriteFloats(s, b, c);
            if (a?.Discrete is { } ad) WriteInts(s, b, ad);
            if (a?.Continuous is { } ac) WriteFloats(s, b, ac);
        }
    }

    private static void WriteU32(Stream s, Span<byte> b, uint v)
    {
        BinaryPrimitives.WriteUInt32LittleEndian(b, v);
        s.Write(b[..4]);
    }

    private static void WriteInts(Stream s, Span<byte> b, int[] values)
    {
        WriteU32(s, b, (uint)values.Length);
        if (BitConverter.IsLittleEndian) s.Write(MemoryMarshal.AsBytes(values.AsSpan()));
        else foreach (var v in values) WriteU32(s, b, (uint)v);
    }

    private static void WriteFloats(Stream s, Span<byte> b, float[] values)
    {
        WriteU32(s, b, (uint)values.Length);
        if (BitConverter.IsLittleEndian) s.Write(MemoryMarshal.AsBytes(values.AsSpan()));
        else foreach (var v in values) WriteU32(s, b, BitConverter.SingleToUInt32Bits(v));
    }

    /// <summary>
    /// Decodes one record. Every count and size is checked against the bytes left in the record
    /// before anything is allocated; a violation names the file and the absolute offset.
    /// </summary>
    public static Episode Read(ReadOnlySpan<byte> record, long recordOffset, string task, string file)
    {
        var r = new RecordReader(record, recordOffset, file);
        var count = r.U32("timestep count");
        // Each timestep takes at least 5 bytes (flags + reward).
        if (count > (uint)(record.Length / 5)) r.Fail($"timestep count {count} is more than the record's {record.Length} bytes can hold");
        var steps = new Timestep[count];
        for (var t = 0; t < steps.Length; t++)
        {
            var flags = r.U8("timestep flags");
            if ((flags & ~ShardFormat.KnownFlags) != 0) r.Fail($"unknown timestep flags 0x{flags:X2}", -1);
            if ((flags & ShardFormat.HasActionDiscrete) != 0 && (flags & ShardFormat.HasActionContinuous) != 0)
                r.Fail("timestep flags name both a discrete and a continuous action", -1);
            if ((flags & ShardFormat.ActionNotScored) != 0 && (flags & (ShardFormat.HasActionDiscrete | ShardFormat.HasActionContinuous)) == 0)
                r.Fail("timestep flags mark an action as not scored but the timestep has no action", -1);
            var reward = r.F32("reward");
            string? text = null;
            ImageData? image = null;
            int[]? discrete = null, actionDiscrete = null;
            float[]? continuous = null, actionContinuous = null;
            if ((flags & ShardFormat.HasText) != 0)
            {
                var n = r.U32("text length");
                text = r.Utf8(n);
            }
            if ((flags & ShardFormat.HasImage) != 0)
            {
                var h = r.U32("image height");
                var w = r.U32("image width");
                var c = r.U32("image channels");
                if (h is 0 or > ShardFormat.MaxImageSide || w is 0 or > ShardFormat.MaxImageSide || c is not (1 or 3))
                    r.Fail($"image shape {h}x{w}x{c} is outside 1..{ShardFormat.MaxImageSide} x 1..{ShardFormat.MaxImageSide} x {{1, 3}}", -12);
                var pixels = r.Bytes((ulong)h * w * c, "image pixels");
                image = new ImageData((int)h, (int)w, (int)c, pixels);
            }
            if ((flags & ShardFormat.HasDiscrete) != 0) discrete = r.Ints("discrete values");
            if ((flags & ShardFormat.HasContinuous) != 0) continuous = r.Floats("continuous values");
            if ((flags & ShardFormat.HasActionDiscrete) != 0) actionDiscrete = r.Ints("discrete action");
            if ((flags & ShardFormat.HasActionContinuous) != 0) actionContinuous = r.Floats("continuous action");
            var action = actionDiscrete is not null || actionContinuous is not null ? new ActionValue(actionDiscrete, actionContinuous) : null;
            steps[t] = new Timestep(new Observation(text, image, discrete, continuous), action, reward,
                ActionScored: (flags & ShardFormat.ActionNotScored) == 0);
        }
        if (r.Left != 0) r.Fail($"{r.Left} bytes left over after the last timestep");
        return new Episode(task, steps);
    }

    private ref struct RecordReader(ReadOnlySpan<byte> data, long baseOffset, string file)
    {
        private readonly ReadOnlySpan<byte> _data = data;
        private int _pos;

        public readonly int Left => _data.Length - _pos;

        public readonly void Fail(string message, int relative = 0) =>
            throw new InvalidDataException($"{file}: corrupted episode record at offset {baseOffset + _pos + relative}: {message}");

        private ReadOnlySpan<byte> Take(ulong n, string what)
        {
            if (n > (ulong)Left) Fail($"{what} needs {n} bytes but only {Left} are left in the record");
            var s = _data.Slice(_pos, (int)n);
            _pos += (int)n;
            return s;
        }

        public byte U8(string what) => Take(1, what)[0];
        public uint U32(string what) => BinaryPrimitives.ReadUInt32LittleEndian(Take(4, what));
        public float F32(string what) => BinaryPrimitives.ReadSingleLittleEndian(Take(4, what));
        public byte[] Bytes(ulong n, string what) => Take(n, what).ToArray();

        public string Utf8(uint n)
        {
            var bytes = Take(n, "text");
            try { return new UTF8Encoding(false, true).GetString(bytes); }
            catch (DecoderFallbackException) { Fail("text is not valid UTF-8", -(int)n); return ""; }
        }

        public int[] Ints(string what)
        {
            var n = U32(what + " count");
            var bytes = Take((ulong)n * 4, what);
            var values = new int[n];
            for (var i = 0; i < values.Length; i++) values[i] = BinaryPrimitives.ReadInt32LittleEndian(bytes[(4 * i)..]);
            return values;
        }

        public float[] Floats(string what)
        {
            var n = U32(what + " count");
            var bytes = Take((ulong)n * 4, what);
            var values = new float[n];
            for (var i = 0; i < values.Length; i++) values[i] = BinaryPrimitives.ReadSingleLittleEndian(bytes[(4 * i)..]);
            return values;
        }
    }
}
