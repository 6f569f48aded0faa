using static TorchSharp.torch;

namespace Generalist.Torch;

/// <summary>Numeric precision of a step: fp32, or bf16 autocast (master weights stay fp32).</summary>
public enum Precision { Fp32, Bf16 }

/// <summary>Where tensors live.</summary>
public enum ComputeDevice { Cpu, Cuda }

/// <summary>
/// The names configs and flags use ("fp32", "bf16"; "cpu", "cuda") and the enums code compares,
/// so no room compares the strings itself.
/// </summary>
public static class ComputeSettings
{
    public static readonly string[] PrecisionNames = ["fp32", "bf16"];
    public static readonly string[] DeviceNames = ["cpu", "cuda"];

    public static Precision ParsePrecision(string name) => name switch
    {
        "fp32" => Precision.Fp32,
        "bf16" => Precision.Bf16,
        _ => throw new ArgumentException($"precision: must be one of {string.Join(", ", PrecisionNames)} (got '{name}')"),
    };

    public static ComputeDevice ParseDevice(string name) => name switch
    {
        "cpu" => ComputeDevice.Cpu,
        "cuda" => ComputeDevice.Cuda,
        _ => throw new ArgumentException($"device: must be one of {string.Join(", ", DeviceNames)} (got '{name}')"),
    };

    public static bool IsDevice(string? name) => name is not null && DeviceNames.Contains(name);

    public static string Name(this Precision precision) => PrecisionNames[(int)precision];

    /// <summary>The autocast dtype of a precision (fp32 runs without autocast).</summary>
    public static ScalarType ScalarType(this Precision precision) =>
        precision == Precision.Bf16 ? TorchSharp.torch.ScalarType.BFloat16 : TorchSharp.torch.ScalarType.Float32;

    /// <summary>An autocast scope for bf16; null (nothing to dispose) for fp32.</summary>
    public static IDisposable? Autocast(this Precision precision, TorchSharp.DeviceType device) =>
        precision == Precision.Bf16 ? Generalist.Torch.Autocast.Enable(device, TorchSharp.torch.ScalarType.BFloat16) : null;
}
