using System.Buffers.Binary;
using System.Security.Cryptography;
using System.Text;
using Generalist.Episodes;

namespace Generalist.Shards;

/// <summary>
/// Writes one task's episodes to a shard file (tokenizers/SHARDS.md). Records are streamed to a
/// temporary file next to the target; <see cref="Complete"/> appends the index, writes the
/// header with the checksum and renames the file into place, so a shard either exists complete
/// or not at all. Disposing without completing deletes the temporary file.
/// </summary>
public sealed class ShardWriter : IDisposable
{
    private readonly string _path;
    private readonly string _tempPath;
    private readonly FileStream _stream;
    private readonly byte[] _taskName;
    private readonly TaskFamily _family;
    private readonly List<(ulong Offset, ulong Length, ulong Hash)> _index = [];
    private readonly MemoryStream _record = new();
    private bool _done;

    public ShardWriter(string path, string task, TaskFamily family)
    {
        ArgumentException.ThrowIfNullOrWhiteSpace(path);
        if (string.IsNullOrWhiteSpace(task)) throw new ArgumentException("task must not be empty");
        _taskName = Encoding.UTF8.GetBytes(task);
        if (_taskName.Length > ShardFormat.MaxTaskNameBytes) throw new ArgumentException($"task name must be at most {ShardFormat.MaxTaskNameBytes} UTF-8 bytes");
        Task = task;
        _path = Path.GetFullPath(path);
        _family = family;
        Directory.CreateDirectory(Path.GetDirectoryName(_path)!);
        _tempPath = $"{_path}.tmp-{Environment.ProcessId}-{Guid.NewGuid():N}";
        _stream = new FileStream(_tempPath, FileMode.CreateNew, FileAccess.ReadWrite, FileShare.None, 1 << 16);
        _stream.Write(new byte[ShardFormat.HeaderSize]);
        _stream.Write(_taskName);
    }

    public string Task { get; private init; } = "";
    public int Count => _index.Count;

    public void Add(Episode episode)
    {
        ObjectDisposedException.ThrowIf(_done, this);
        ArgumentNullException.ThrowIfNull(episode);
        if (episode.Task != Task) throw new ArgumentException($"episode.task '{episode.Task}' differs from the shard's task '{Task}'");
        _record.SetLength(0);
        EpisodeCodec.Write(_record, episode);
        var bytes = _record.GetBuffer().AsSpan(0, (int)_record.Length);
        _index.Add(((ulong)_stream.Position, (ulong)bytes.Length, EpisodeCodec.RecordHash(bytes)));
        _stream.Write(bytes);
    }

    /// <summary>Writes the index and header, flushes to disk and renames into place.</summary>
    public void Complete()
    {
        ObjectDisposedException.ThrowIf(_done, this);
        var indexOffset = (ulong)_stream.Position;
        var entry = new byte[ShardFormat.IndexEntrySize];
        foreach (var (offset, length, hash) in _index)
        {
            BinaryPrimitives.WriteUInt64LittleEndian(entry, offset);
            BinaryPrimitives.WriteUInt64LittleEndian(entry.AsSpan(8), length);
            BinaryPrimitives.WriteUInt64LittleEndian(entry.AsSpan(16), hash);
            _stream.Write(entry);
        }
        var fileLength = (ulong)_stream.Position;

        var header = new byte[ShardFormat.HeaderSize];
        ShardFormat.Magic.CopyTo(header);
        ShardFormat.WriteU32(header, ShardFormat.VersionOffset, ShardFormat.Version);
        ShardFormat.WriteU32(header, ShardFormat.FamilyOffset, (uint)_family);
        ShardFormat.WriteU64(header, ShardFormat.EpisodeCountOffset, (ulong)_index.Count);
        ShardFormat.WriteU64(header, ShardFormat.IndexOffsetOffset, indexOffset);
        ShardFormat.WriteU64(header, ShardFormat.FileLengthOffset, fileLength);
        ShardFormat.WriteU32(header, ShardFormat.TaskNameLengthOffset, (uint)_taskName.Length);
        _stream.Position = 0;
        _stream.Write(header);
        _stream.Flush();

        // The checksum covers the whole file with the checksum field itself read as zeros.
        _stream.Position = 0;
        var checksum = SHA256.HashData(_stream);
        _stream.Position = ShardFormat.ChecksumOffset;
        _stream.Write(checksum);
        _stream.Flush(flushToDisk: true);
        _stream.Dispose();
        File.Move(_tempPath, _path, overwrite: true);
        _done = true;
    }

    public void Dispose()
    {
        if (_done) return;
        _done = true;
        _stream.Dispose();
        try { File.Delete(_tempPath); } catch (IOException) { /* best effort: a stale temp name never shadows a shard */ }
    }

    /// <summary>Writes a whole shard at once.</summary>
    public static void Write(string path, string task, TaskFamily family, IEnumerable<Episode> episodes)
    {
        using var writer = new ShardWriter(path, task, family);
        foreach (var e in episodes) writer.Add(e);
        writer.Complete();
    }
}
