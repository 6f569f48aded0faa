using System.Security.Cryptography;
using System.Text.Json;
using static TorchSharp.torch;

namespace Generalist.RunFormat.Safetensors;

/// <summary>
/// Writes the safetensors format (8-byte little-endian header length, a JSON header with dtype,
/// shape and data_offsets per tensor plus string-to-string `__metadata__`, then raw little-endian
/// data). Written by hand although the registry serves TorchSharp.PyBridge: the format is small,
/// and the project keeps its own reader for its validation (bounds, dtype and shape checks with
/// clear errors before anything is allocated) and its checksum, a SHA-256 of the data section in
/// `__metadata__` under <see cref="ChecksumKey"/> so a reader can detect truncation and bit flips.
/// </summary>
public static class SafetensorsWriter
{
    public const string ChecksumKey = "sha256";

    /// <summary>
    /// Writes <paramref name="tensors"/> (in order) to <paramref name="path"/> through a temporary file
    /// renamed into place, so a crash never leaves a half-written file under the final name.
    /// Returns the SHA-256 (hex) of the data section. <paramref name="beforeFlush"/> runs once every
    /// byte is in the temporary file but before it is flushed to disk and renamed (reliability tests
    /// stop the process there).
    /// </summary>
    public static string Write(string path, IReadOnlyList<(string Name, Tensor Tensor)> tensors,
        IReadOnlyDictionary<string, string>? metadata = null, Action? beforeFlush = null)
    {
        if (!BitConverter.IsLittleEndian) throw new PlatformNotSupportedException("safetensors writing assumes a little-endian host");
        var names = new HashSet<string>(StringComparer.Ordinal);
        foreach (var (name, _) in tensors)
        {
            if (string.IsNullOrEmpty(name) || name == "__metadata__") throw new ArgumentException($"{path}: invalid tensor name '{name}'");
            if (!names.Add(name)) throw new ArgumentException($"{path}: tensor name '{name}' appears twice");
        }

        // Contiguous CPU copies first: their byte sizes fix the offsets, and the hash is taken over
        // exactly the bytes written.
        var hosts = new Tensor[tensors.Count];
        try
        {
            for (var i = 0; i < tensors.Count; i++) hosts[i] = tensors[i].Tensor.detach().cpu().contiguous();
            using var sha = IncrementalHash.CreateHash(HashAlgorithmName.SHA256);
            foreach (var h in hosts) sha.AppendData(h.bytes);
            var checksum = Convert.ToHexStringLower(sha.GetHashAndReset());

            var header = BuildHeader(tensors, hosts, metadata, checksum);
            var tmp = path + ".tmp-" + Environment.ProcessId;
            using (var file = new FileStream(tmp, FileMode.Create, FileAccess.Write, FileShare.None, 1 << 20))
            {
                Span<byte> length = stackalloc byte[8];
                BitConverter.TryWriteBytes(length, (ulong)header.Length);
                file.Write(length);
                file.Write(header);
                foreach (var h in hosts) file.Write(h.bytes);
                beforeFlush?.Invoke();
                file.Flush(flushToDisk: true);
            }
            File.Move(tmp, path, overwrite: true);
            return checksum;
        }
        finally
        {
            for (var i = 0; i < hosts.Length; i++)
                if (hosts[i] is { } h && !ReferenceEquals(h, tensors[i].Tensor)) h.Dispose();
        }
    }

    private static byte[] BuildHeader(IReadOnlyList<(string Name, Tensor Tensor)> tensors, Tensor[] hosts,
        IReadOnlyDictionary<string, string>? metadata, string checksum)
    {
        using var buffer = new MemoryStream();
        using (var json = new Utf8JsonWriter(buffer))
        {
            json.WriteStartObject();
            json.WriteStartObject("__metadata__");
            if (metadata is not null)
                foreach (var (k, v) in metadata.Where(kv => kv.Key != ChecksumKey))
                    json.WriteString(k, v);
            json.WriteString(ChecksumKey, checksum);
            json.WriteEndObject();
            long offset = 0;
            for (var i = 0; i < tensors.Count; i++)
            {
                var size = hosts[i].NumberOfElements * SafetensorsDType.SizeOf(hosts[i].dtype);
                json.WriteStartObject(tensors[i].Name);
                json.WriteString("dtype", SafetensorsDType.NameOf(hosts[i].dtype));
                json.WriteStartArray("shape");
                foreach (var d in hosts[i].shape) json.WriteNumberValue(d);
                json.WriteEndArray();
                json.WriteStartArray("data_offsets");
                json.WriteNumberValue(offset);
                json.WriteNumberValue(offset + size);
                json.WriteEndArray();
                json.WriteEndObject();
                offset += size;
            }
            json.WriteEndObject();
        }
        // Pad with spaces to a multiple of 8 so the data section is aligned (as the reference writer does).
        var bytes = buffer.ToArray();
        var padded = (bytes.Length + 7) / 8 * 8;
        var result = new byte[padded];
        bytes.CopyTo(result, 0);
        result.AsSpan(bytes.Length).Fill((byte)' ');
        return result;
    }
}
