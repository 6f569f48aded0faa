using System.Runtime.InteropServices;
using Generalist.Torch;
using TorchSharp;

namespace Generalist.Distributed;

/// <summary>
/// Raw data pointers of tensors, for handing them to MPI or NCCL. TorchSharp exposes no data_ptr, so
/// this calls LibTorchSharp's THSTensor_data export (at::Tensor::data_ptr, storage offset included;
/// a device pointer for CUDA tensors). libtorch memory never moves under the GC.
/// </summary>
internal static unsafe class TensorMemory
{
    private static readonly Lazy<nint> DataExport = new(() =>
    {
        var report = TorchRuntime.EnsureLoaded();
        var handle = NativeLibrary.Load(report.LibTorchSharpPath);
        return NativeLibrary.GetExport(handle, "THSTensor_data");
    });

    public static nint DataPointer(torch.Tensor t) =>
        (nint)((delegate* unmanaged[Cdecl]<nint, void*>)DataExport.Value)(t.Handle);

    /// <summary>Checks what every collective needs and names what is wrong.</summary>
    public static void RequireFlatFloat(torch.Tensor t, string what, bool cuda)
    {
        if (t.dtype != torch.ScalarType.Float32)
            throw new DistributedException($"{what}: collectives take float32 tensors (got {t.dtype})");
        if (!t.is_contiguous())
            throw new DistributedException($"{what}: collectives take contiguous tensors (call .contiguous() first)");
        var onCuda = t.device_type == DeviceType.CUDA;
        if (onCuda != cuda)
            throw new DistributedException($"{what}: this backend takes {(cuda ? "CUDA" : "CPU")} tensors (got a {t.device_type} tensor)");
    }

    /// <summary>A span over a CPU float32 tensor's memory (valid while the tensor lives).</summary>
    public static Span<float> CpuSpan(torch.Tensor t, string what)
    {
        RequireFlatFloat(t, what, cuda: false);
        var n = checked((int)t.numel());
        return new Span<float>((void*)DataPointer(t), n);
    }
}
