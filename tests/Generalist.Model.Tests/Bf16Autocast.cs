using System.Runtime.InteropServices;
using Generalist.Torch;

namespace Generalist.Model.Tests;

/// <summary>
/// Turns libtorch's CPU autocast to bf16 on for the current thread, through libtorch_cpu.so's
/// at::autocast exports named below (TorchSharp 0.107 has no managed autocast); the trainer has its own
/// (src/Generalist.Torch/Autocast.cs).
/// </summary>
internal sealed unsafe class Bf16Autocast : IDisposable
{
    private const sbyte Cpu = 0;
    private const sbyte BFloat16 = 15;
    private static readonly IntPtr Library = NativeLibrary.Load(Path.Combine(TorchRuntime.EnsureLoaded().LibTorchDirectory, "libtorch_cpu.so"));
    private static readonly delegate* unmanaged<sbyte, byte, void> SetEnabled = (delegate* unmanaged<sbyte, byte, void>)Export("_ZN2at8autocast20set_autocast_enabledEN3c1010DeviceTypeEb");
    private static readonly delegate* unmanaged<sbyte, sbyte, void> SetDtype = (delegate* unmanaged<sbyte, sbyte, void>)Export("_ZN2at8autocast18set_autocast_dtypeEN3c1010DeviceTypeENS1_10ScalarTypeE");
    private static readonly delegate* unmanaged<long> IncrementNesting = (delegate* unmanaged<long>)Export("_ZN2at8autocast17increment_nestingEv");
    private static readonly delegate* unmanaged<long> DecrementNesting = (delegate* unmanaged<long>)Export("_ZN2at8autocast17decrement_nestingEv");
    private static readonly delegate* unmanaged<void> ClearCache = (delegate* unmanaged<void>)Export("_ZN2at8autocast11clear_cacheEv");

    public Bf16Autocast()
    {
        SetDtype(Cpu, BFloat16);
        SetEnabled(Cpu, 1);
        IncrementNesting();
    }

    public void Dispose()
    {
        if (DecrementNesting() == 0) ClearCache();
        SetEnabled(Cpu, 0);
    }

    private static IntPtr Export(string name) => NativeLibrary.GetExport(Library, name);
}
