using System.Buffers.Binary;

namespace Generalist.Shards;

/// <summary>Constants of the shard format (tokenizers/SHARDS.md). All integers little-endian.</summary>
public static class ShardFormat
{
    /// <summary>"GNSHARD" and a zero byte.</summary>
    public static ReadOnlySpan<byte> Magic => "GNSHARD\0"u8;
    public const uint Version = 1;
    /// <summary>Fixed header size; the task name follows it.</summary>
    public const int HeaderSize = 80;
    public const int IndexEntrySize = 24;
    /// <summary>Upper bounds the reader enforces before allocating.</summary>
    public const int MaxTaskNameBytes = 1024;
    public const int MaxImageSide = 1 << 15;

    // Field offsets in the header.
    public const int MagicOffset = 0;
    public const int VersionOffset = 8;
    public const int FamilyOffset = 12;
    public const int EpisodeCountOffset = 16;
    public const int IndexOffsetOffset = 24;
    public const int FileLengthOffset = 32;
    public const int ChecksumOffset = 40;      // SHA-256 of the whole file with these 32 bytes read as zeros
    public const int TaskNameLengthOffset = 72;
    public const int ReservedOffset = 76;

    // Presence flags of a timestep record.
    public const byte HasText = 1, HasImage = 2, HasDiscrete = 4, HasContinuous = 8, HasActionDiscrete = 16, HasActionContinuous = 32;
    /// <summary>The timestep's action is not scored (<see cref="Timestep.ActionScored"/> false). Set
    /// only with an action; a shard written before this bit existed reads as all actions scored.</summary>
    public const byte ActionNotScored = 64;
    public const byte KnownFlags = 127;

    internal static void WriteU32(Span<byte> s, int offset, uint v) => BinaryPrimitives.WriteUInt32LittleEndian(s[offset..], v);
    internal static void WriteU64(Span<byte> s, int offset, ulong v) => BinaryPrimitives.WriteUInt64LittleEndian(s[offset..], v);
}
