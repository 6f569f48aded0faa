using System.Runtime.InteropServices;

namespace Generalist.Distributed;

/// <summary>
/// The NCCL 2.x entry points the trainer needs (nccl.h ABI), bound lazily so that a CPU machine
/// only fails when NCCL is actually asked for. libnccl.so.2 ships with PyTorch's CUDA wheels
/// (site-packages/nvidia/nccl/lib) and with the CUDA toolkit's NCCL packages.
/// </summary>
internal static unsafe class NcclNative
{
    public const string LibraryName = "libnccl.so.2";
    public const int Success = 0;
    public const int Float32 = 7;   // ncclFloat32
    public const int Sum = 0;       // ncclSum
    public const int UniqueIdBytes = 128;

    [StructLayout(LayoutKind.Sequential, Size = UniqueIdBytes)]
    public struct UniqueId
    {
        public fixed byte Internal[UniqueIdBytes];
    }

    private static readonly Lazy<Api> Loaded = new(Load, LazyThreadSafetyMode.ExecutionAndPublication);
    public static Api Nccl => Loaded.Value;

    public sealed class Api
    {
        public required delegate* unmanaged[Cdecl]<UniqueId*, int> GetUniqueId { get; init; }
        public required delegate* unmanaged[Cdecl]<nint*, int, UniqueId, int, int> CommInitRank { get; init; }
        public required delegate* unmanaged[Cdecl]<nint, nint, nuint, int, int, nint, nint, int> AllReduce { get; init; }
        public required delegate* unmanaged[Cdecl]<nint, nint, nuint, int, nint, nint, int> AllGather { get; init; }
        public required delegate* unmanaged[Cdecl]<nint, nint, nuint, int, int, nint, nint, int> Broadcast { get; init; }
        public required delegate* unmanaged[Cdecl]<nint, int> CommDestroy { get; init; }
        public required delegate* unmanaged[Cdecl]<nint, int> CommAbort { get; init; }
        public required delegate* unmanaged[Cdecl]<int, nint> GetErrorString { get; init; }
    }

    /// <summary>Where NCCL was looked for, for the error message.</summary>
    public static IEnumerable<string> Candidates()
    {
        var explicitPath = Environment.GetEnvironmentVariable("GENERALIST_NCCL");
        if (!string.IsNullOrWhiteSpace(explicitPath)) yield return explicitPath;
        var torchLib = Environment.GetEnvironmentVariable("GENERALIST_LIBTORCH");
        if (!string.IsNullOrWhiteSpace(torchLib))
        {
            // A PyTorch wheel keeps NCCL in site-packages/nvidia/nccl/lib, beside torch/.
            yield return Path.Combine(torchLib, LibraryName);
            yield return Path.GetFullPath(Path.Combine(torchLib, "..", "..", "nvidia", "nccl", "lib", LibraryName));
        }
        yield return LibraryName;
    }

    private static Api Load()
    {
        nint lib = 0;
        var tried = new List<string>();
        foreach (var candidate in Candidates())
        {
            tried.Add(candidate);
            if (NativeLibrary.TryLoad(candidate, out lib)) break;
        }
        if (lib == 0)
            throw new DistributedException(
                $"NCCL was asked for (a CUDA run with more than one rank, or distributed.backend = \"nccl\") but {LibraryName} could not be loaded. " +
                $"Tried: {string.Join("; ", tried)}. Fix: set GENERALIST_NCCL to the file (a PyTorch CUDA install has it in site-packages/nvidia/nccl/lib), " +
                "add its directory to LD_LIBRARY_PATH, or set distributed.backend = \"mpi\" to carry the gradients through host memory.");
        nint Export(string name) => NativeLibrary.TryGetExport(lib, name, out var p)
            ? p
            : throw new DistributedException($"{LibraryName} lacks '{name}': NCCL 2.x is required.");
        return new Api
        {
            GetUniqueId = (delegate* unmanaged[Cdecl]<UniqueId*, int>)Export("ncclGetUniqueId"),
            CommInitRank = (delegate* unmanaged[Cdecl]<nint*, int, UniqueId, int, int>)Export("ncclCommInitRank"),
            AllReduce = (delegate* unmanaged[Cdecl]<nint, nint, nuint, int, int, nint, nint, int>)Export("ncclAllReduce"),
            AllGather = (delegate* unmanaged[Cdecl]<nint, nint, nuint, int, nint, nint, int>)Export("ncclAllGather"),
            Broadcast = (delegate* unmanaged[Cdecl]<nint, nint, nuint, int, int, nint, nint, int>)Export("ncclBroadcast"),
            CommDestroy = (delegate* unmanaged[Cdecl]<nint, int>)Export("ncclCommDestroy"),
            CommAbort = (delegate* unmanaged[Cdecl]<nint, int>)Export("ncclCommAbort"),
            GetErrorString = (delegate* unmanaged[Cdecl]<int, nint>)Export("ncclGetErrorString"),
        };
    }

    public static void Check(int code, string call)
    {
        if (code == Success) return;
        var text = Marshal.PtrToStringAnsi(Nccl.GetErrorString(code)) ?? "unknown error";
        throw new DistributedException($"{call} failed with NCCL error {code}: {text}");
    }
}
