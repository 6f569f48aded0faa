using System.Buffers.Binary;
using System.Text;

namespace Generalist.Torch;

/// <summary>
/// Marks one symbol-version requirement of an ELF64 shared object as weak (VER_FLG_WEAK), in a copy.
/// Why: TorchSharp 0.107's libLibTorchSharp.so was linked with GCC 13 and requires GLIBCXX_3.4.32
/// only for <c>std::ios_base_library_init</c>, a link-time marker that is never called. Debian 12's
/// libstdc++ stops at 3.4.30, so the loader refuses the library. A weak requirement is checked but
/// not enforced. No held package edits ELF version tables, so this is written by hand; it only ever
/// writes a 16-bit flag field inside the file and never resizes anything.
/// </summary>
public static class ElfVersionPatcher
{
    private const uint ShtGnuVerneed = 0x6ffffffe;
    private const ushort VerFlagWeak = 0x2;

    /// <summary>Returns true when the file requires <paramref name="version"/> (weak or not).</summary>
    public static bool RequiresVersion(string path, string version) =>
        FindRequirement(File.ReadAllBytes(path), version, path) is not null;

    /// <summary>Returns true when the requirement exists and is already weak.</summary>
    public static bool IsWeak(string path, string version)
    {
        var bytes = File.ReadAllBytes(path);
        var offset = FindRequirement(bytes, version, path)
            ?? throw new InvalidDataException($"{path}: no requirement on version {version}");
        return (BinaryPrimitives.ReadUInt16LittleEndian(bytes.AsSpan(offset)) & VerFlagWeak) != 0;
    }

    /// <summary>
    /// Copies <paramref name="source"/> to <paramref name="destination"/> with the requirement on
    /// <paramref name="version"/> marked weak. The source is never modified; the destination is
    /// written under a temporary name and renamed, so a reader never sees half a file.
    /// </summary>
    public static void WriteWeakenedCopy(string source, string destination, string version)
    {
        var bytes = File.ReadAllBytes(source);
        var flagsOffset = FindRequirement(bytes, version, source)
            ?? throw new InvalidDataException($"{source}: no requirement on version {version} to weaken");
        var flags = BinaryPrimitives.ReadUInt16LittleEndian(bytes.AsSpan(flagsOffset));
        BinaryPrimitives.WriteUInt16LittleEndian(bytes.AsSpan(flagsOffset), (ushort)(flags | VerFlagWeak));

        Directory.CreateDirectory(Path.GetDirectoryName(Path.GetFullPath(destination))!);
        var temp = destination + $".tmp{Environment.ProcessId}";
        File.WriteAllBytes(temp, bytes);
        File.Move(temp, destination, overwrite: true);
    }

    /// <summary>File offset of the vna_flags field of the matching Vernaux entry, or null.</summary>
    private static int? FindRequirement(byte[] elf, string version, string path)
    {
        var span = elf.AsSpan();
        if (span.Length < 64 || span[0] != 0x7f || span[1] != (byte)'E' || span[2] != (byte)'L' || span[3] != (byte)'F')
            throw new InvalidDataException($"{path}: not an ELF file");
        if (span[4] != 2 || span[5] != 1)
            throw new InvalidDataException($"{path}: only 64-bit little-endian ELF is supported");

        var sectionHeaderOffset = checked((int)BinaryPrimitives.ReadUInt64LittleEndian(span[0x28..]));
        var sectionHeaderSize = BinaryPrimitives.ReadUInt16LittleEndian(span[0x3A..]);
        var sectionCount = BinaryPrimitives.ReadUInt16LittleEndian(span[0x3C..]);
        if (sectionHeaderSize < 64 || (long)sectionHeaderOffset + (long)sectionHeaderSize * sectionCount > span.Length)
            throw new InvalidDataException($"{path}: section header table lies outside the file");

        for (var i = 0; i < sectionCount; i++)
        {
            var header = span.Slice(sectionHeaderOffset + i * sectionHeaderSize, sectionHeaderSize);
            if (BinaryPrimitives.ReadUInt32LittleEndian(header[4..]) != ShtGnuVerneed) continue;

            var verneedOffset = checked((int)BinaryPrimitives.ReadUInt64LittleEndian(header[0x18..]));
            var link = BinaryPrimitives.ReadUInt32LittleEndian(header[0x28..]);
            var strtab = span.Slice(sectionHeaderOffset + (int)link * sectionHeaderSize, sectionHeaderSize);
            var stringsOffset = checked((int)BinaryPrimitives.ReadUInt64LittleEndian(strtab[0x18..]));
            var stringsSize = checked((int)BinaryPrimitives.ReadUInt64LittleEndian(strtab[0x20..]));
            var strings = span.Slice(stringsOffset, stringsSize);

            // Elf64_Verneed: vn_version u16, vn_cnt u16, vn_file u32, vn_aux u32, vn_next u32
            var needAt = verneedOffset;
            while (true)
            {
                var need = span[needAt..];
                var auxCount = BinaryPrimitives.ReadUInt16LittleEndian(need[2..]);
                var auxAt = needAt + (int)BinaryPrimitives.ReadUInt32LittleEndian(need[8..]);
                for (var a = 0; a < auxCount; a++)
                {
                    // Elf64_Vernaux: vna_hash u32, vna_flags u16, vna_other u16, vna_name u32, vna_next u32
                    var aux = span[auxAt..];
                    var name = ReadString(strings, (int)BinaryPrimitives.ReadUInt32LittleEndian(aux[8..]));
                    if (name == version) return auxAt + 4;
                    auxAt += (int)BinaryPrimitives.ReadUInt32LittleEndian(aux[12..]);
                }
                var next = BinaryPrimitives.ReadUInt32LittleEndian(need[12..]);
                if (next == 0) break;
                needAt += (int)next;
            }
        }
        return null;
    }

    private static string ReadString(ReadOnlySpan<byte> strings, int offset)
    {
        var rest = strings[offset..];
        var end = rest.IndexOf((byte)0);
        return Encoding.ASCII.GetString(end < 0 ? rest : rest[..end]);
    }
}
