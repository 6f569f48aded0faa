using System.Buffers.Binary;
using System.IO.Compression;

namespace Generalist.Datasets.Parsers;

/// <summary>An IDX array of unsigned bytes: dimensions plus the raw values in row-major order.</summary>
public sealed record IdxArray(int[] Dimensions, byte[] Values)
{
    public int Count => Dimensions[0];
    /// <summary>Values per item (e.g. 28*28 for an image file, 1 for a label file).</summary>
    public int ItemSize => Dimensions.Skip(1).Aggregate(1, (a, b) => a * b);
    public ReadOnlySpan<byte> Item(int index) => Values.AsSpan(index * ItemSize, ItemSize);
}

/// <summary>
/// Reads the IDX format of MNIST and Fashion-MNIST (written by hand: no held .NET package reads it).
/// Header: two zero bytes, a type byte (0x08 = unsigned byte, the only type these sets use), the
/// number of dimensions, then each dimension as a big-endian int32; then the values. Gzipped files
/// (magic 1f 8b) are decompressed on the fly.
/// </summary>
public static class IdxReader
{
    private const byte UnsignedByteType = 0x08;

    public static IdxArray Read(string path)
    {
        using var file = File.OpenRead(path);
        try
        {
            return Read(file, path);
        }
        catch (EndOfStreamException)
        {
            throw new InvalidDataException($"{path}: the IDX file ends before its declared size");
        }
    }

    public static IdxArray Read(Stream stream, string name)
    {
        var magic = new byte[2];
        stream.ReadExactly(magic);
        Stream body = stream;
        byte[] header = new byte[4];
        if (magic[0] == 0x1f && magic[1] == 0x8b)
        {
            // Gzip: put the two magic bytes back in front of the rest and decompress.
            body = new GZipStream(new ConcatStream(magic, stream), CompressionMode.Decompress);
            body.ReadExactly(header);
        }
        else
        {
            magic.CopyTo(header, 0);
            stream.ReadExactly(header.AsSpan(2));
        }
        if (header[0] != 0 || header[1] != 0)
            throw new InvalidDataException($"{name}: not an IDX file (the first two bytes must be zero)");
        if (header[2] != UnsignedByteType)
            throw new InvalidDataException($"{name}: IDX value type 0x{header[2]:x2} is not supported (only 0x08, unsigned byte)");
        int rank = header[3];
        if (rank is < 1 or > 4)
            throw new InvalidDataException($"{name}: IDX rank {rank} is outside the allowed range [1, 4]");
        var dimBytes = new byte[4 * rank];
        body.ReadExactly(dimBytes);
        var dims = new int[rank];
        long total = 1;
        for (var i = 0; i < rank; i++)
        {
            dims[i] = BinaryPrimitives.ReadInt32BigEndian(dimBytes.AsSpan(4 * i));
            if (dims[i] < 0) throw new InvalidDataException($"{name}: IDX dimension {i} is negative ({dims[i]})");
            total *= dims[i];
        }
        if (total > Array.MaxLength)
            throw new InvalidDataException($"{name}: IDX declares {total} values, more than one array can hold");
        var values = new byte[total];
        body.ReadExactly(values);
        return new IdxArray(dims, values);
    }

    /// <summary>Reads a prefix buffer, then the rest of an inner stream (so the gzip magic can be re-read).</summary>
    private sealed class ConcatStream(byte[] prefix, Stream inner) : Stream
    {
        private int _position;
        public override int Read(byte[] buffer, int offset, int count)
        {
            if (_position < prefix.Length)
            {
                var n = Math.Min(count, prefix.Length - _position);
                Array.Copy(prefix, _position, buffer, offset, n);
                _position += n;
                return n;
            }
            return inner.Read(buffer, offset, count);
        }
        public override bool CanRead => true;
        public override bool CanSeek => false;
        public override bool CanWrite => false;
        public override long Length => throw new NotSupportedException();
        public override long Position { get => throw new NotSupportedException(); set => throw new NotSupportedException(); }
        public override void Flush() { }
        public override long Seek(long offset, SeekOrigin origin) => throw new NotSupportedException();
        public override void SetLength(long value) => throw new NotSupportedException();
        public override void Write(byte[] buffer, int offset, int count) => throw new NotSupportedException();
    }
}
