using System.Buffers.Binary;
using System.IO.MemoryMappedFiles;
using System.Security.Cryptography;
using System.Text;
using Generalist.Episodes;

namespace Generalist.Shards;

/// <summary>
/// Reads a shard (tokenizers/SHARDS.md) through a read-only memory map; random access to its
/// episodes by index. Opening validates the header, every index entry's offset and size and
/// (unless told not to) the SHA-256 checksum; a truncated or corrupted file gives an
/// <see cref="InvalidDataException"/> naming the file and the offset. Get is thread-safe.
/// </summary>
public sealed unsafe class ShardReader : IEpisodeSource, IDisposable
{
    private readonly MemoryMappedFile _map;
    private readonly MemoryMappedViewAccessor _view;
    private readonly byte* _base;
    private readonly long _length;
    private readonly long _indexOffset;
    private readonly bool _verified;
    private bool _disposed;

    public string Path { get; }
    public string Task { get; }
    public TaskFamily Family { get; }
    public int Count { get; }

    public ShardReader(string path, bool verifyChecksum = true)
    {
        Path = System.IO.Path.GetFullPath(path);
        if (!File.Exists(Path)) throw new FileNotFoundException($"shard not found: {Path}", Path);
        _length = new FileInfo(Path).Length;
        if (_length < ShardFormat.HeaderSize)
            throw Corrupt(_length, $"truncated: {_length} bytes, the header alone needs {ShardFormat.HeaderSize}");
        _map = MemoryMappedFile.CreateFromFile(Path, FileMode.Open, null, 0, MemoryMappedFileAccess.Read);
        try
        {
            _view = _map.CreateViewAccessor(0, _length, MemoryMappedFileAccess.Read);
            byte* p = null;
            _view.SafeMemoryMappedViewHandle.AcquirePointer(ref p);
            _base = p + _view.PointerOffset;

            var header = Bytes(0, ShardFormat.HeaderSize);
            if (!header[..8].SequenceEqual(ShardFormat.Magic)) throw Corrupt(0, "not a Generalist shard (bad magic)");
            var version = BinaryPrimitives.ReadUInt32LittleEndian(header[ShardFormat.VersionOffset..]);
            if (version != ShardFormat.Version) throw Corrupt(ShardFormat.VersionOffset, $"unsupported version {version} (this reader reads {ShardFormat.Version})");
            var family = BinaryPrimitives.ReadUInt32LittleEndian(header[ShardFormat.FamilyOffset..]);
            if (!Enum.IsDefined(typeof(TaskFamily), (int)Math.Min(family, int.MaxValue))) throw Corrupt(ShardFormat.FamilyOffset, $"unknown task family {family}");
            Family = (TaskFamily)(int)family;
            var reserved = BinaryPrimitives.ReadUInt32LittleEndian(header[ShardFormat.ReservedOffset..]);
            if (reserved != 0) throw Corrupt(ShardFormat.ReservedOffset, $"reserved header field must be 0 (got {reserved})");
            var fileLength = BinaryPrimitives.ReadUInt64LittleEndian(header[ShardFormat.FileLengthOffset..]);
            if (fileLength != (ulong)_length)
                throw Corrupt(Math.Min((long)Math.Min(fileLength, long.MaxValue), _length), $"the header says {fileLength} bytes but the file has {_length} (truncated or appended to)");
            var count = BinaryPrimitives.ReadUInt64LittleEndian(header[ShardFormat.EpisodeCountOffset..]);
            var indexOffset = BinaryPrimitives.ReadUInt64LittleEndian(header[ShardFormat.IndexOffsetOffset..]);
            var nameLength = BinaryPrimitives.ReadUInt32LittleEndian(header[ShardFormat.TaskNameLengthOffset..]);
            if (nameLength is 0 or > ShardFormat.MaxTaskNameBytes) throw Corrupt(ShardFormat.TaskNameLengthOffset, $"task name length {nameLength} is outside [1, {ShardFormat.MaxTaskNameBytes}]");
            var recordsStart = (ulong)ShardFormat.HeaderSize + nameLength;
            if (indexOffset < recordsStart || indexOffset > (ulong)_length) throw Corrupt(ShardFormat.IndexOffsetOffset, $"index offset {indexOffset} is outside [{recordsStart}, {_length}]");
            if (count > int.MaxValue || count * ShardFormat.IndexEntrySize != (ulong)_length - indexOffset)
                throw Corrupt(ShardFormat.EpisodeCountOffset, $"episode count {count} does not match the index size {(ulong)_length - indexOffset} bytes ({ShardFormat.IndexEntrySize} per entry)");
            Count = (int)count;
            _indexOffset = (long)indexOffset;
            try { Task = new UTF8Encoding(false, true).GetString(Bytes(ShardFormat.HeaderSize, (int)nameLength)); }
            catch (DecoderFallbackException) { throw Corrupt(ShardFormat.HeaderSize, "task name is not valid UTF-8"); }

            if (verifyChecksum) VerifyChecksum(header[ShardFormat.ChecksumOffset..(ShardFormat.ChecksumOffset + 32)]);
            _verified = verifyChecksum;
            var previousEnd = recordsStart;
            for (var i = 0; i < Count; i++)
            {
                var (offset, length, _) = Entry(i);
                // offset > indexOffset first: without it indexOffset - offset wraps around and an entry
                // pointing past the end of the file passes, and Get would read outside the map.
                if (offset < previousEnd || offset > indexOffset || length > indexOffset - offset || length > int.MaxValue)
                    throw Corrupt(_indexOffset + (long)i * ShardFormat.IndexEntrySize, $"index entry {i} (offset {offset}, length {length}) lies outside the records [{previousEnd}, {indexOffset})");
                previousEnd = offset + length;
            }
        }
        catch
        {
            Dispose();
            throw;
        }
    }

    public Episode Get(int index)
    {
        ObjectDisposedException.ThrowIf(_disposed, this);
        if ((uint)index >= (uint)Count) throw new ArgumentOutOfRangeException(nameof(index), index, $"episode index must be in [0, {Count})");
        var (offset, length, hash) = Entry(index);
        var record = Bytes((long)offset, (int)length);
        if (!_verified && EpisodeCodec.RecordHash(record) != hash)
            throw Corrupt((long)offset, $"episode record {index} does not match its checksum");
        return EpisodeCodec.Read(record, (long)offset, Task, Path);
    }

    private (ulong Offset, ulong Length, ulong Hash) Entry(int i)
    {
        var e = Bytes(_indexOffset + (long)i * ShardFormat.IndexEntrySize, ShardFormat.IndexEntrySize);
        return (BinaryPrimitives.ReadUInt64LittleEndian(e), BinaryPrimitives.ReadUInt64LittleEndian(e[8..]), BinaryPrimitives.ReadUInt64LittleEndian(e[16..]));
    }

    private ReadOnlySpan<byte> Bytes(long offset, int length) => new(_base + offset, length);

    private void VerifyChecksum(ReadOnlySpan<byte> expected)
    {
        using var sha = IncrementalHash.CreateHash(HashAlgorithmName.SHA256);
        sha.AppendData(Bytes(0, ShardFormat.ChecksumOffset));
        sha.AppendData(new byte[32]);
        for (long o = ShardFormat.ChecksumOffset + 32; o < _length; o += 1 << 24)
            sha.AppendData(Bytes(o, (int)Math.Min(1 << 24, _length - o)));
        Span<byte> actual = stackalloc byte[32];
        sha.GetHashAndReset(actual);
        if (actual.SequenceEqual(expected)) return;
        // Find where: the first record whose own hash fails, else the name or the index.
        for (var i = 0; i < Count; i++)
        {
            var (offset, length, hash) = Entry(i);
            if (offset > (ulong)_indexOffset || length > (ulong)_indexOffset - offset || length > int.MaxValue)
                throw Corrupt(_indexOffset + (long)i * ShardFormat.IndexEntrySize, $"checksum mismatch; index entry {i} is damaged");
            if (EpisodeCodec.RecordHash(Bytes((long)offset, (int)length)) != hash)
                throw Corrupt((long)offset, $"checksum mismatch; episode record {i} ({length} bytes) is damaged");
        }
        throw Corrupt(0, "checksum mismatch in the header, the task name or the index");
    }

    private InvalidDataException Corrupt(long offset, string message) => new($"{Path}: corrupted shard at offset {offset}: {message}");

    public void Dispose()
    {
        if (_disposed) return;
        _disposed = true;
        if (_view is not null)
        {
            if (_base != null) _view.SafeMemoryMappedViewHandle.ReleasePointer();
            _view.Dispose();
        }
        _map?.Dispose();
    }
}
