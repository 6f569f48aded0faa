using static TorchSharp.torch;

namespace Generalist.RunFormat.Safetensors;

/// <summary>The safetensors dtype strings this project reads and writes, and their torch types.</summary>
public static class SafetensorsDType
{
    private static readonly (string Name, ScalarType Type, int Size)[] Table =
    [
        ("F64", ScalarType.Float64, 8), ("F32", ScalarType.Float32, 4), ("F16", ScalarType.Float16, 2),
        ("BF16", ScalarType.BFloat16, 2), ("I64", ScalarType.Int64, 8), ("I32", ScalarType.Int32, 4),
        ("I16", ScalarType.Int16, 2), ("I8", ScalarType.Int8, 1), ("U8", ScalarType.Byte, 1), ("BOOL", ScalarType.Bool, 1),
    ];

    public static string Allowed => string.Join(", ", Table.Select(t => t.Name));

    public static bool TryParse(string name, out ScalarType type, out int size)
    {
        foreach (var t in Table)
        {
            if (t.Name != name) continue;
            type = t.Type;
            size = t.Size;
            return true;
        }
        type = default;
        size = 0;
        return false;
    }

    public static string NameOf(ScalarType type) =>
        Table.FirstOrDefault(t => t.Type == type).Name
        ?? throw new ArgumentException($"safetensors cannot store tensors of dtype {type}; allowed: {Allowed}");

    public static int SizeOf(ScalarType type) =>
        Table.FirstOrDefault(t => t.Type == type) is { Name: not null } t ? t.Size
        : throw new ArgumentException($"safetensors cannot store tensors of dtype {type}; allowed: {Allowed}");
}

/// <summary>
/// Errors for malformed or corrupt safetensors files: an <see cref="InvalidDataException"/> (the CLI
/// maps it to a one-line error and exit 2) whose message starts with the file's path.
/// </summary>
public static class SafetensorsError
{
    public static InvalidDataException At(string path, string problem) => new($"{path}: {problem}");
}
