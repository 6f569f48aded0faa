using System.Reflection;
using System.Runtime.InteropServices;
using System.Security.Cryptography;
using System.Text;

namespace Generalist.Torch;

/// <summary>What was loaded, for `generalist doctor` and logs.</summary>
public sealed record TorchLoadReport(
    string Source,                 // "package", "GENERALIST_LIBTORCH" or "app"
    string LibTorchDirectory,
    string LibTorchSharpPath,      // the file actually loaded (a patched copy when Patched)
    bool Patched,
    string? PatchedFrom,
    bool HostHasGlibcxx332,
    string TorchBackend);

/// <summary>Loading libtorch failed; the message is one paragraph saying what was tried and how to fix it.</summary>
public sealed class TorchLoadException(string message, Exception? inner = null) : Exception(message, inner);

/// <summary>
/// Makes libtorch loadable before the first TorchSharp call. Every entry point (CLI, service, tests)
/// calls <see cref="EnsureLoaded"/> first. Order: GENERALIST_LIBTORCH (an existing PyTorch
/// install's torch/lib, for CUDA hosts), else natives beside the app, else the libtorch-cpu package
/// in the NuGet cache. LibTorchSharp comes from beside the app or the TorchSharp package; on hosts
/// whose libstdc++ lacks GLIBCXX_3.4.32 a patched copy is made once into a cache keyed by the
/// original's hash (see <see cref="ElfVersionPatcher"/>).
/// </summary>
public static class TorchRuntime
{
    public const string LibTorchEnvironmentVariable = "GENERALIST_LIBTORCH";
    public const string CacheEnvironmentVariable = "GENERALIST_CACHE";
    private const string RequiredGlibcxx = "GLIBCXX_3.4.32";
    private static readonly Lock Gate = new();
    private static TorchLoadReport? _report;
    private static IntPtr _libTorchSharpHandle;

    /// <summary>Idempotent and thread-safe; throws <see cref="TorchLoadException"/> with a readable paragraph.</summary>
    public static TorchLoadReport EnsureLoaded()
    {
        lock (Gate)
        {
            if (_report is not null) return _report;
            _report = Load();
            return _report;
        }
    }

    /// <summary>The directory patched copies are cached in (override with GENERALIST_CACHE).</summary>
    public static string CacheDirectory()
    {
        var explicitDir = Environment.GetEnvironmentVariable(CacheEnvironmentVariable);
        if (!string.IsNullOrWhiteSpace(explicitDir)) return Path.GetFullPath(explicitDir);
        var xdg = Environment.GetEnvironmentVariable("XDG_CACHE_HOME");
        var root = !string.IsNullOrWhiteSpace(xdg)
            ? xdg
            : Path.Combine(Environment.GetFolderPath(Environment.SpecialFolder.UserProfile), ".cache");
        return Path.Combine(root, "generalist");
    }

    private static TorchLoadReport Load()
    {
        var backend = Metadata("Generalist.TorchBackend") ?? "cpu";
        var tried = new List<string>();
        var (source, libTorchDir) = FindLibTorch(tried);
        var originalSharp = FindLibTorchSharp(tried);
        var hostOk = HostLibstdcxxHas(RequiredGlibcxx);

        try
        {
            foreach (var lib in new[] { "libc10.so", "libtorch_cpu.so", "libc10_cuda.so", "libtorch_cuda.so", "libtorch.so" })
            {
                var path = Path.Combine(libTorchDir, lib);
                if (File.Exists(path)) NativeLibrary.Load(path);
                else if (lib is "libc10.so" or "libtorch_cpu.so" or "libtorch.so")
                    throw new TorchLoadException(
                        $"libtorch could not be loaded: {path} is missing. Tried: {string.Join("; ", tried)}. " +
                        $"Fix: point {LibTorchEnvironmentVariable} at a directory holding libtorch.so, libtorch_cpu.so and libc10.so " +
                        "(a PyTorch install's torch/lib), or run `dotnet restore` so the libtorch-cpu package is in the NuGet cache.");
            }
        }
        catch (DllNotFoundException e)
        {
            throw new TorchLoadException(
                $"libtorch was found in {libTorchDir} ({source}) but the dynamic loader refused it: {e.Message}. " +
                $"Fix: check that the directory matches this machine's architecture and that its dependencies resolve (`ldd {Path.Combine(libTorchDir, "libtorch.so")}`), " +
                $"or unset {LibTorchEnvironmentVariable} to use the libtorch-cpu package.", e);
        }

        var sharpToLoad = originalSharp;
        string? patchedFrom = null;
        if (!hostOk && ElfVersionPatcher.RequiresVersion(originalSharp, RequiredGlibcxx)
                    && !ElfVersionPatcher.IsWeak(originalSharp, RequiredGlibcxx))
        {
            sharpToLoad = PatchedCopy(originalSharp);
            patchedFrom = originalSharp;
        }

        try
        {
            _libTorchSharpHandle = NativeLibrary.Load(sharpToLoad);
        }
        catch (DllNotFoundException e)
        {
            throw new TorchLoadException(
                $"libtorch loaded from {libTorchDir} ({source}), but LibTorchSharp ({sharpToLoad}) did not: {e.Message}. " +
                "LibTorchSharp 0.107 is built against libtorch 2.10; another libtorch version may lack the C++ symbols it imports. " +
                $"Fix: use libtorch 2.10 (unset {LibTorchEnvironmentVariable} for the package's), or delete {CacheDirectory()} to rebuild the patched copy.", e);
        }

        // TorchSharp imports "LibTorchSharp" by name: hand it the handle we loaded, so it never
        // probes bin/ for an unpatched copy and never falls back to copying natives per run.
        try
        {
            NativeLibrary.SetDllImportResolver(typeof(TorchSharp.torch).Assembly,
                (name, _, _) => name.Contains("LibTorchSharp", StringComparison.Ordinal) ? _libTorchSharpHandle : IntPtr.Zero);
        }
        catch (InvalidOperationException)
        {
            // A resolver is already set (a host set one): the library is loaded under its soname anyway.
        }

        try
        {
            TorchSharp.torch.InitializeDeviceType(TorchSharp.DeviceType.CPU);
        }
        catch (Exception e) when (e is TypeInitializationException or DllNotFoundException or NotSupportedException or EntryPointNotFoundException)
        {
            var inner = e.InnerException ?? e;
            throw new TorchLoadException(
                $"libtorch ({libTorchDir}, {source}) and LibTorchSharp ({sharpToLoad}) were loaded but TorchSharp failed to initialise: {inner.Message}. " +
                $"Fix: make sure {LibTorchEnvironmentVariable} points at libtorch 2.10 (LibTorchSharp 0.107's version), or unset it.", e);
        }

        return new TorchLoadReport(source, libTorchDir, sharpToLoad, patchedFrom is not null, patchedFrom, hostOk, backend);
    }

    private static (string Source, string Directory) FindLibTorch(List<string> tried)
    {
        var fromEnv = Environment.GetEnvironmentVariable(LibTorchEnvironmentVariable);
        if (!string.IsNullOrWhiteSpace(fromEnv))
        {
            var dir = Path.GetFullPath(fromEnv);
            if (!File.Exists(Path.Combine(dir, "libtorch.so")))
                throw new TorchLoadException(
                    $"{LibTorchEnvironmentVariable} is set to '{fromEnv}', but that directory holds no libtorch.so. " +
                    "It must name a libtorch library directory, such as a PyTorch install's torch/lib " +
                    "(python3 -c \"import torch,os;print(os.path.dirname(torch.__file__)+'/lib')\"). " +
                    $"Fix the path, or unset {LibTorchEnvironmentVariable} to use the libtorch-cpu package.");
            return (LibTorchEnvironmentVariable, dir);
        }

        foreach (var (source, dir) in Candidates())
        {
            tried.Add(dir);
            if (File.Exists(Path.Combine(dir, "libtorch.so"))) return (source, dir);
        }
        throw new TorchLoadException(
            $"libtorch could not be found. Tried: {string.Join("; ", tried)}. " +
            "Fix: run `dotnet restore` (the libtorch-cpu-linux-x64 2.10.0 package must be in the NuGet cache), " +
            $"or set {LibTorchEnvironmentVariable} to a directory holding libtorch.so (a PyTorch install's torch/lib).");

        static IEnumerable<(string, string)> Candidates()
        {
            var app = AppContext.BaseDirectory;
            yield return ("app", app);
            yield return ("app", Path.Combine(app, "runtimes", "linux-x64", "native"));
            var baked = Metadata("Generalist.LibTorchPackageDir");
            if (!string.IsNullOrEmpty(baked)) yield return ("package", Path.Combine(baked, "runtimes", "linux-x64", "native"));
            yield return ("package", Path.Combine(NuGetRoot(), "libtorch-cpu-linux-x64", "2.10.0", "runtimes", "linux-x64", "native"));
        }
    }

    private static string FindLibTorchSharp(List<string> tried)
    {
        var app = AppContext.BaseDirectory;
        var candidates = new List<string>
        {
            Path.Combine(app, "libLibTorchSharp.so"),
            Path.Combine(app, "runtimes", "linux-x64", "native", "libLibTorchSharp.so"),
        };
        var baked = Metadata("Generalist.TorchSharpPackageDir");
        if (!string.IsNullOrEmpty(baked)) candidates.Add(Path.Combine(baked, "runtimes", "linux-x64", "native", "libLibTorchSharp.so"));
        candidates.Add(Path.Combine(NuGetRoot(), "torchsharp", "0.107.0", "runtimes", "linux-x64", "native", "libLibTorchSharp.so"));
        foreach (var c in candidates)
        {
            tried.Add(c);
            if (File.Exists(c)) return c;
        }
        throw new TorchLoadException(
            $"libLibTorchSharp.so could not be found. Tried: {string.Join("; ", candidates)}. " +
            "Fix: run `dotnet restore` so the TorchSharp 0.107.0 package is in the NuGet cache, or place libLibTorchSharp.so beside the app.");
    }

    private static string PatchedCopy(string original)
    {
        var hash = Convert.ToHexStringLower(SHA256.HashData(File.ReadAllBytes(original)))[..16];
        var target = Path.Combine(CacheDirectory(), "libtorchsharp", hash, "libLibTorchSharp.so");
        if (!File.Exists(target) || !ElfVersionPatcher.IsWeak(target, RequiredGlibcxx))
            ElfVersionPatcher.WriteWeakenedCopy(original, target, RequiredGlibcxx);
        return target;
    }

    /// <summary>Whether the libstdc++ this process would load defines the given symbol version.</summary>
    public static bool HostLibstdcxxHas(string version)
    {
        var path = LoadedLibraryPath("libstdc++.so.6");
        if (path is null || !File.Exists(path)) return false;
        var needle = Encoding.ASCII.GetBytes(version + "\0");
        return File.ReadAllBytes(path).AsSpan().IndexOf(needle) >= 0;
    }

    private static string? LoadedLibraryPath(string soname)
    {
        if (!NativeLibrary.TryLoad(soname, out _)) return null;
        foreach (var line in File.ReadLines("/proc/self/maps"))
        {
            var slash = line.IndexOf('/');
            if (slash >= 0 && line.AsSpan(slash).EndsWith(soname, StringComparison.Ordinal)) return line[slash..];
            if (slash >= 0 && Path.GetFileName(line[slash..]).StartsWith("libstdc++.so", StringComparison.Ordinal)) return line[slash..];
        }
        return null;
    }

    private static string NuGetRoot() =>
        Environment.GetEnvironmentVariable("NUGET_PACKAGES") is { Length: > 0 } p
            ? p
            : Path.Combine(Environment.GetFolderPath(Environment.SpecialFolder.UserProfile), ".nuget", "packages");

    private static string? Metadata(string key) =>
        typeof(TorchRuntime).Assembly.GetCustomAttributes<AssemblyMetadataAttribute>()
            .FirstOrDefault(a => a.Key == key)?.Value;
}
