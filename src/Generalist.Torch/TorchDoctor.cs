using System.Diagnostics;
using System.Text.RegularExpressions;
using TorchSharp;
using static TorchSharp.torch;

namespace Generalist.Torch;

/// <summary>Facts about the loaded torch runtime, printed by `generalist doctor`.</summary>
public sealed record DoctorReport(
    string LibTorchVersion,
    string LibTorchDirectory,
    string Source,
    string LibTorchSharpPath,
    bool PatchedCopy,
    string TorchBackend,
    int CpuThreads,
    bool CpuBf16,
    bool CudaAvailable,
    int CudaDeviceCount,
    string? CudaDeviceName,
    long? CudaMemoryBytes,
    bool? CudaBf16);

public static partial class TorchDoctor
{
    public static DoctorReport Inspect()
    {
        var load = TorchRuntime.EnsureLoaded();
        var cudaAvailable = cuda_is_available();
        string? name = null;
        long? memory = null;
        bool? cudaBf16 = null;
        if (cudaAvailable && QueryNvidiaSmi() is { } gpu)
        {
            (name, memory, var capabilityMajor) = gpu;
            cudaBf16 = capabilityMajor >= 8;
        }
        return new DoctorReport(
            LibTorchVersion(load.LibTorchDirectory),
            load.LibTorchDirectory,
            load.Source,
            load.LibTorchSharpPath,
            load.Patched,
            load.TorchBackend,
            get_num_threads(),
            CpuSupportsBf16(),
            cudaAvailable,
            cudaAvailable ? cuda.device_count() : 0,
            name,
            memory,
            cudaBf16);
    }

    /// <summary>A bf16 matmul runs on every libtorch CPU build; this says whether the CPU has native bf16 units.</summary>
    private static bool CpuSupportsBf16()
    {
        using var scope = NewDisposeScope();
        var a = ones(8, 8, dtype: ScalarType.BFloat16);
        var ok = matmul(a, a)[0, 0].ToSingle() == 8f;
        if (!ok || !File.Exists("/proc/cpuinfo")) return false;
        var flags = File.ReadAllText("/proc/cpuinfo");
        return flags.Contains("avx512_bf16", StringComparison.Ordinal) || flags.Contains("amx_bf16", StringComparison.Ordinal);
    }

    private static string LibTorchVersion(string directory)
    {
        // A PyTorch install: torch/lib/../version.py holds __version__.
        var versionPy = Path.Combine(directory, "..", "version.py");
        if (File.Exists(versionPy) && VersionLine().Match(File.ReadAllText(versionPy)) is { Success: true } m)
            return m.Groups[1].Value;
        // The NuGet package: .../libtorch-cpu-linux-x64/<version>/runtimes/linux-x64/native
        var parts = directory.Replace('\\', '/').Split('/');
        var at = Array.FindIndex(parts, p => p.StartsWith("libtorch-", StringComparison.Ordinal));
        if (at >= 0 && at + 1 < parts.Length) return parts[at + 1];
        var build = Path.Combine(directory, "..", "build-version");
        return File.Exists(build) ? File.ReadAllText(build).Trim() : "unknown";
    }

    private static (string Name, long Memory, int CapabilityMajor)? QueryNvidiaSmi()
    {
        try
        {
            var psi = new ProcessStartInfo("nvidia-smi", "--query-gpu=name,memory.total,compute_cap --format=csv,noheader,nounits")
            { RedirectStandardOutput = true, RedirectStandardError = true };
            using var p = Process.Start(psi);
            if (p is null) return null;
            var line = p.StandardOutput.ReadLine();
            p.WaitForExit(5000);
            if (line is null) return null;
            var f = line.Split(',', StringSplitOptions.TrimEntries);
            return (f[0], long.Parse(f[1]) * 1024 * 1024, (int)double.Parse(f[2], System.Globalization.CultureInfo.InvariantCulture));
        }
        catch (Exception e) when (e is System.ComponentModel.Win32Exception or FormatException or IndexOutOfRangeException)
        {
            return null;
        }
    }

    [GeneratedRegex(@"__version__\s*=\s*'([^']+)'")]
    private static partial Regex VersionLine();
}
