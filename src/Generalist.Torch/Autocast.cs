using System.Runtime.InteropServices;
using TorchSharp;

namespace Generalist.Torch;

/// <summary>
/// Mixed-precision autocast through libtorch's own exports, the mangled at::autocast functions of
/// libtorch_cpu.so named below (TorchSharp 0.107 has no managed autocast). Autocast state is per
/// thread: open the scope on the thread that runs the forward pass, and dispose it there. Backward
/// runs outside the scope, as in PyTorch.
/// </summary>
public static unsafe class Autocast
{
    // c10::DeviceType and c10::ScalarType are int8 enums in the C++ ABI; bool is one byte.
    private const string SetEnabled = "_ZN2at8autocast20set_autocast_enabledEN3c1010DeviceTypeEb";
    private const string IsEnabled = "_ZN2at8autocast19is_autocast_enabledEN3c1010DeviceTypeE";
    private const string SetDtype = "_ZN2at8autocast18set_autocast_dtypeEN3c1010DeviceTypeENS1_10ScalarTypeE";
    private const string GetDtype = "_ZN2at8autocast18get_autocast_dtypeEN3c1010DeviceTypeE";
    private const string Increment = "_ZN2at8autocast17increment_nestingEv";
    private const string Decrement = "_ZN2at8autocast17decrement_nestingEv";
    private const string ClearCache = "_ZN2at8autocast11clear_cacheEv";

    private static readonly Lazy<Exports> Native = new(Resolve);

    private sealed record Exports(
        IntPtr SetEnabled, IntPtr IsEnabled, IntPtr SetDtype, IntPtr GetDtype,
        IntPtr Increment, IntPtr Decrement, IntPtr ClearCache);

    private static Exports Resolve()
    {
        var report = TorchRuntime.EnsureLoaded();
        var lib = NativeLibrary.Load(Path.Combine(report.LibTorchDirectory, "libtorch_cpu.so"));
        IntPtr Get(string name) => NativeLibrary.TryGetExport(lib, name, out var p)
            ? p
            : throw new EntryPointNotFoundException($"libtorch_cpu.so in {report.LibTorchDirectory} lacks the autocast export {name}; autocast needs libtorch 2.x");
        return new Exports(Get(SetEnabled), Get(IsEnabled), Get(SetDtype), Get(GetDtype), Get(Increment), Get(Decrement), Get(ClearCache));
    }

    /// <summary>Whether autocast is on for the device type on this thread.</summary>
    public static bool IsEnabledOn(DeviceType device) =>
        ((delegate* unmanaged<sbyte, byte>)Native.Value.IsEnabled)((sbyte)device) != 0;

    /// <summary>The autocast lower-precision dtype for the device type on this thread.</summary>
    public static torch.ScalarType DtypeOn(DeviceType device) =>
        (torch.ScalarType)((delegate* unmanaged<sbyte, sbyte>)Native.Value.GetDtype)((sbyte)device);

    /// <summary>
    /// Turns autocast on for <paramref name="device"/> with <paramref name="dtype"/> until disposed,
    /// restoring the previous state (so scopes nest). Disposal on the exiting outermost scope
    /// clears the cast cache, as torch.autocast's __exit__ does.
    /// </summary>
    public static Scope Enable(DeviceType device, torch.ScalarType dtype = torch.ScalarType.BFloat16) => new(device, dtype);

    public sealed class Scope : IDisposable
    {
        private readonly DeviceType _device;
        private readonly bool _previousEnabled;
        private readonly torch.ScalarType _previousDtype;
        private readonly int _threadId = Environment.CurrentManagedThreadId;
        private bool _disposed;

        internal Scope(DeviceType device, torch.ScalarType dtype)
        {
            var n = Native.Value;
            _device = device;
            _previousEnabled = IsEnabledOn(device);
            _previousDtype = DtypeOn(device);
            ((delegate* unmanaged<sbyte, sbyte, void>)n.SetDtype)((sbyte)device, (sbyte)dtype);
            ((delegate* unmanaged<sbyte, byte, void>)n.SetEnabled)((sbyte)device, 1);
            ((delegate* unmanaged<int>)n.Increment)();
        }

        public void Dispose()
        {
            if (_disposed) return;
            if (Environment.CurrentManagedThreadId != _threadId)
                throw new InvalidOperationException("an autocast scope must be disposed on the thread that opened it (autocast state is per thread)");
            _disposed = true;
            var n = Native.Value;
            var depth = ((delegate* unmanaged<int>)n.Decrement)();
            if (depth == 0) ((delegate* unmanaged<void>)n.ClearCache)();
            ((delegate* unmanaged<sbyte, byte, void>)n.SetEnabled)((sbyte)_device, (byte)(_previousEnabled ? 1 : 0));
            ((delegate* unmanaged<sbyte, sbyte, void>)n.SetDtype)((sbyte)_device, (sbyte)_previousDtype);
        }
    }
}
