using System.Runtime.InteropServices;

namespace Generalist.Distributed;

/// <summary>
/// The few Open MPI entry points the trainer needs, bound lazily through function pointers so that a
/// machine without Open MPI only fails when MPI is actually asked for. Open MPI's handles
/// (MPI_COMM_WORLD, MPI_FLOAT, MPI_SUM, ...) are the addresses of exported globals, and
/// MPI_IN_PLACE is (void*)1 (mpi.h of Open MPI 4.x; ABI of libmpi.so.40).
/// </summary>
internal static unsafe class MpiNative
{
    public const string LibraryName = "libmpi.so.40";
    public const int Success = 0;
    public const int ThreadSerialized = 2;
    public static readonly nint InPlace = 1;

    private static readonly Lazy<Api> Loaded = new(Load, LazyThreadSafetyMode.ExecutionAndPublication);

    public static Api Mpi => Loaded.Value;

    public sealed class Api
    {
        public required nint Library { get; init; }
        public required nint CommWorld { get; init; }
        public required nint Float { get; init; }
        public required nint Double { get; init; }
        public required nint Byte { get; init; }
        public required nint OpSum { get; init; }
        public required delegate* unmanaged[Cdecl]<int*, nint, int, int*, int> InitThread { get; init; }
        public required delegate* unmanaged[Cdecl]<int*, int> Initialized { get; init; }
        public required delegate* unmanaged[Cdecl]<int*, int> Finalized { get; init; }
        public required delegate* unmanaged[Cdecl]<nint, int*, int> CommRank { get; init; }
        public required delegate* unmanaged[Cdecl]<nint, int*, int> CommSize { get; init; }
        public required delegate* unmanaged[Cdecl]<nint, nint, int, nint, nint, nint, int> Allreduce { get; init; }
        public required delegate* unmanaged[Cdecl]<nint, int, nint, nint, int, nint, nint, int> Allgather { get; init; }
        public required delegate* unmanaged[Cdecl]<nint, int, nint, int, nint, int> Bcast { get; init; }
        public required delegate* unmanaged[Cdecl]<nint, int> Barrier { get; init; }
        public required delegate* unmanaged[Cdecl]<nint, int, int> Abort { get; init; }
        public required delegate* unmanaged[Cdecl]<int> Finalize { get; init; }
        public required delegate* unmanaged[Cdecl]<int, byte*, int*, int> ErrorString { get; init; }
    }

    private static Api Load()
    {
        if (!NativeLibrary.TryLoad(LibraryName, out var lib))
            throw new DistributedException(
                $"MPI was asked for but {LibraryName} could not be loaded. Fix: install Open MPI 4.x " +
                "(Debian/Ubuntu: apt-get install openmpi-bin libopenmpi-dev) on every machine of the job, " +
                "or run with a single process (no mpirun/srun).");
        nint Export(string name)
        {
            if (NativeLibrary.TryGetExport(lib, name, out var p)) return p;
            throw new DistributedException(
                $"{LibraryName} lacks '{name}': it is not Open MPI 4.x (MPICH and others lay out MPI handles differently). " +
                "Fix: use Open MPI (openmpi-bin) or put Open MPI's lib directory first on LD_LIBRARY_PATH.");
        }
        return new Api
        {
            Library = lib,
            CommWorld = Export("ompi_mpi_comm_world"),
            Float = Export("ompi_mpi_float"),
            Double = Export("ompi_mpi_double"),
            Byte = Export("ompi_mpi_byte"),
            OpSum = Export("ompi_mpi_op_sum"),
            InitThread = (delegate* unmanaged[Cdecl]<int*, nint, int, int*, int>)Export("MPI_Init_thread"),
            Initialized = (delegate* unmanaged[Cdecl]<int*, int>)Export("MPI_Initialized"),
            Finalized = (delegate* unmanaged[Cdecl]<int*, int>)Export("MPI_Finalized"),
            CommRank = (delegate* unmanaged[Cdecl]<nint, int*, int>)Export("MPI_Comm_rank"),
            CommSize = (delegate* unmanaged[Cdecl]<nint, int*, int>)Export("MPI_Comm_size"),
            Allreduce = (delegate* unmanaged[Cdecl]<nint, nint, int, nint, nint, nint, int>)Export("MPI_Allreduce"),
            Allgather = (delegate* unmanaged[Cdecl]<nint, int, nint, nint, int, nint, nint, int>)Export("MPI_Allgather"),
            Bcast = (delegate* unmanaged[Cdecl]<nint, int, nint, int, nint, int>)Export("MPI_Bcast"),
            Barrier = (delegate* unmanaged[Cdecl]<nint, int>)Export("MPI_Barrier"),
            Abort = (delegate* unmanaged[Cdecl]<nint, int, int>)Export("MPI_Abort"),
            Finalize = (delegate* unmanaged[Cdecl]<int>)Export("MPI_Finalize"),
            ErrorString = (delegate* unmanaged[Cdecl]<int, byte*, int*, int>)Export("MPI_Error_string"),
        };
    }

    /// <summary>Throws with MPI's own text when a call did not return MPI_SUCCESS.</summary>
    public static void Check(int code, string call)
    {
        if (code == Success) return;
        var buffer = stackalloc byte[512];
        var length = 0;
        var text = Mpi.ErrorString(code, buffer, &length) == Success
            ? System.Text.Encoding.ASCII.GetString(buffer, Math.Clamp(length, 0, 512))
            : "unknown error";
        throw new DistributedException($"{call} failed with MPI error {code}: {text}");
    }
}
