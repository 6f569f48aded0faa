using System.Buffers.Binary;
using System.Text.Json;
using Generalist.Model;
using Generalist.Training;
using TorchSharp;
using static TorchSharp.torch;

namespace Generalist.Evaluation;

/// <summary>
/// Loads a checkpoint directory (model.safetensors + trainer_state.json, as the trainer writes
/// them) for evaluation: the run config from the trainer state, the model shape from its preset and
/// context length (as the trainer resolves it), and every weight checked for name, dtype and shape.
/// The safetensors header is validated before anything is allocated (offsets inside the file, sizes
/// equal to shape x dtype); only F32 and BF16 tensors, the dtypes the trainer writes, are read.
/// </summary>
public static class CheckpointLoading
{
    public const string ModelFile = "model.safetensors", StateFile = "trainer_state.json";

    public static LoadedCheckpoint Load(string directory, Device device)
    {
        var statePath = Path.Combine(directory, StateFile);
        var modelPath = Path.Combine(directory, ModelFile);
        if (!File.Exists(statePath) || !File.Exists(modelPath))
            throw new FileNotFoundException($"checkpoint: {directory} is not a complete checkpoint (needs {ModelFile} and {StateFile})");
        var config = ReadConfig(statePath);
        var shape = ModelPresets.Get(config.Preset);
        if (config.ContextLength > 0) shape = (shape with { ContextLength = config.ContextLength }).Validate();
        var model = new GeneralistModel(shape, config.Seed);
        try
        {
            using var file = File.OpenRead(modelPath);
            var entries = ReadHeader(file, modelPath);
            using (no_grad())
            {
                foreach (var (name, target) in model.state_dict())
                {
                    if (!entries.TryGetValue(name, out var e))
                        throw new InvalidDataException($"checkpoint: {modelPath} has no tensor '{name}' for preset '{config.Preset}' (was the run trained with another model shape?)");
                    if (!e.Shape.SequenceEqual(target.shape))
                        throw new InvalidDataException($"checkpoint: tensor '{name}' has shape ({string.Join(", ", e.Shape)}) but preset '{config.Preset}' needs ({string.Join(", ", target.shape)})");
                    using var saved = ReadTensor(file, e);
                    target.copy_(saved);
                }
            }
            model.to(device);
            model.eval();
            return new LoadedCheckpoint(model, config, directory);
        }
        catch
        {
            model.Dispose();
            throw;
        }
    }

    /// <summary>The resolved run config saved in trainer_state.json ("config").</summary>
    public static RunConfig ReadConfig(string statePath)
    {
        try
        {
            using var doc = JsonDocument.Parse(File.ReadAllText(statePath));
            if (!doc.RootElement.TryGetProperty("config", out var config))
                throw new InvalidDataException($"checkpoint: {statePath} has no \"config\"");
            return RunConfig.Parse(config.GetRawText(), statePath + " (config)");
        }
        catch (JsonException e)
        {
            throw new InvalidDataException($"checkpoint: {statePath} is not valid JSON: {e.Message}");
        }
    }

    private sealed record Entry(string Name, string DType, long[] Shape, long Begin, long End);

    private static Dictionary<string, Entry> ReadHeader(FileStream file, string path)
    {
        Span<byte> lengthBytes = stackalloc byte[8];
        if (file.Read(lengthBytes) != 8) throw new InvalidDataException($"checkpoint: {path} is shorter than a safetensors header");
        var headerLength = BinaryPrimitives.ReadInt64LittleEndian(lengthBytes);
        if (headerLength <= 0 || headerLength > Math.Min(100_000_000, file.Length - 8))
            throw new InvalidDataException($"checkpoint: {path} declares a header of {headerLength} bytes in a {file.Length}-byte file");
        var header = new byte[headerLength];
        file.ReadExactly(header);
        var dataStart = 8 + headerLength;
        var dataLength = file.Length - dataStart;
        var entries = new Dictionary<string, Entry>(StringComparer.Ordinal);
        using var doc = JsonDocument.Parse(header);
        foreach (var p in doc.RootElement.EnumerateObject())
        {
            if (p.Name == "__metadata__") continue;
            var dtype = p.Value.GetProperty("dtype").GetString() ?? "";
            var shape = p.Value.GetProperty("shape").EnumerateArray().Select(v => v.GetInt64()).ToArray();
            var offsets = p.Value.GetProperty("data_offsets").EnumerateArray().Select(v => v.GetInt64()).ToArray();
            var size = dtype switch { "F32" => 4, "BF16" => 2, _ => throw new InvalidDataException($"checkpoint: tensor '{p.Name}' has dtype {dtype}; F32 or BF16 expected") };
            var count = shape.Aggregate(1L, (a, b) => b >= 0 ? checked(a * b) : throw new InvalidDataException($"checkpoint: tensor '{p.Name}' has a negative dimension"));
            if (offsets.Length != 2 || offsets[0] < 0 || offsets[1] > dataLength || offsets[1] - offsets[0] != count * size)
                throw new InvalidDataException($"checkpoint: tensor '{p.Name}' has data offsets [{string.Join(", ", offsets)}] that do not fit {count} x {dtype} in {dataLength} data bytes");
            entries[p.Name] = new Entry(p.Name, dtype, shape, dataStart + offsets[0], dataStart + offsets[1]);
        }
        return entries;
    }

    private static Tensor ReadTensor(FileStream file, Entry e)
    {
        var bytes = new byte[e.End - e.Begin];
        file.Position = e.Begin;
        file.ReadExactly(bytes);
        var values = new float[e.DType == "F32" ? bytes.Length / 4 : bytes.Length / 2];
        if (e.DType == "F32")
            for (var i = 0; i < values.Length; i++) values[i] = BinaryPrimitives.ReadSingleLittleEndian(bytes.AsSpan(4 * i));
        else
            // bfloat16 is the upper half of a float32.
            for (var i = 0; i < values.Length; i++) values[i] = BitConverter.Int32BitsToSingle(BinaryPrimitives.ReadUInt16LittleEndian(bytes.AsSpan(2 * i)) << 16);
        return tensor(values, e.Shape);
    }
}
