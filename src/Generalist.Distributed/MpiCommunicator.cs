using TorchSharp;
using static Generalist.Distributed.MpiNative;

namespace Generalist.Distributed;

/// <summary>
/// CPU collectives through Open MPI (libmpi.so.40) on MPI_COMM_WORLD. One per process: MPI can be
/// initialised once and finalised once. Initialised with MPI_THREAD_SERIALIZED rather than FUNNELED
/// because the trainer's async loop may resume on another thread than the one that called
/// MPI_Init; calls never overlap (the trainer issues them in order).
/// </summary>
public sealed unsafe class MpiCommunicator : ICommunicator
{
    // MPI counts are C ints; larger buffers go in pieces of this many elements.
    private const int MaxChunk = 1 << 28;
    private static readonly Lock InitGate = new();
    private static MpiCommunicator? _instance;
    private bool _disposed;

    public int Rank { get; }
    public int WorldSize { get; }
    public string Backend => "mpi";

    private MpiCommunicator(int rank, int worldSize)
    {
        Rank = rank;
        WorldSize = worldSize;
    }

    /// <summary>Initialises MPI (once per process) and returns the world communicator.</summary>
    public static MpiCommunicator Initialize()
    {
        lock (InitGate)
        {
            if (_instance is { _disposed: false }) return _instance;
            var api = Mpi;
            int finalized;
            Check(api.Finalized(&finalized), "MPI_Finalized");
            if (finalized != 0)
                throw new DistributedException("MPI was already finalised in this process; a process can run one MPI job only.");
            int initialized;
            Check(api.Initialized(&initialized), "MPI_Initialized");
            if (initialized == 0)
            {
                int provided;
                Check(api.InitThread(null, 0, ThreadSerialized, &provided), "MPI_Init_thread");
                if (provided < ThreadSerialized)
                    throw new DistributedException(
                        $"Open MPI provided thread level {provided}, below MPI_THREAD_SERIALIZED (2). Fix: use an Open MPI build with thread support.");
            }
            int rank, size;
            Check(api.CommRank(api.CommWorld, &rank), "MPI_Comm_rank");
            Check(api.CommSize(api.CommWorld, &size), "MPI_Comm_size");
            _instance = new MpiCommunicator(rank, size);
            return _instance;
        }
    }

    public void AllReduceSum(Span<float> data)
    {
        ThrowIfDisposed();
        fixed (float* p = data) AllReduce((nint)p, data.Length, sizeof(float), Mpi.Float);
    }

    public void AllReduceSum(Span<double> data)
    {
        ThrowIfDisposed();
        fixed (double* p = data) AllReduce((nint)p, data.Length, sizeof(double), Mpi.Double);
    }

    public void AllReduceSum(torch.Tensor tensor)
    {
        ThrowIfDisposed();
        TensorMemory.RequireFlatFloat(tensor, "all-reduce", cuda: false);
        AllReduce(TensorMemory.DataPointer(tensor), tensor.numel(), sizeof(float), Mpi.Float);
    }

    private static void AllReduce(nint data, long count, int elementSize, nint datatype)
    {
        var api = Mpi;
        for (long offset = 0; offset < count; offset += MaxChunk)
        {
            var n = (int)Math.Min(MaxChunk, count - offset);
            Check(api.Allreduce(InPlace, data + (nint)(offset * elementSize), n, datatype, api.OpSum, api.CommWorld), "MPI_Allreduce");
        }
    }

    public void AllGather(ReadOnlySpan<float> send, Span<float> receive)
    {
        ThrowIfDisposed();
        RequireGatherLength(send.Length, receive.Length);
        fixed (float* s = send)
        fixed (float* r = receive)
            Gather((nint)s, (nint)r, send.Length);
    }

    public void AllGather(torch.Tensor send, torch.Tensor receive)
    {
        ThrowIfDisposed();
        TensorMemory.RequireFlatFloat(send, "all-gather send", cuda: false);
        TensorMemory.RequireFlatFloat(receive, "all-gather receive", cuda: false);
        RequireGatherLength(send.numel(), receive.numel());
        Gather(TensorMemory.DataPointer(send), TensorMemory.DataPointer(receive), send.numel());
    }

    private void Gather(nint send, nint receive, long count)
    {
        if (count > MaxChunk * 4L)
            throw new DistributedException($"all-gather of {count} floats per rank is above the {MaxChunk * 4L} this backend sends in one call; use fewer parameters or the mean rule");
        var api = Mpi;
        Check(api.Allgather(send, (int)count, api.Float, receive, (int)count, api.Float, api.CommWorld), "MPI_Allgather");
    }

    private void RequireGatherLength(long send, long receive)
    {
        if (receive != send * WorldSize)
            throw new DistributedException($"all-gather: the receive buffer must hold {send} x {WorldSize} ranks = {send * WorldSize} floats (got {receive})");
    }

    public void Broadcast(Span<byte> data, int root)
    {
        ThrowIfDisposed();
        RequireRoot(root);
        var api = Mpi;
        fixed (byte* p = data)
        {
            for (long offset = 0; offset < data.Length; offset += MaxChunk)
            {
                var n = (int)Math.Min(MaxChunk, data.Length - offset);
                Check(api.Bcast((nint)(p + offset), n, api.Byte, root, api.CommWorld), "MPI_Bcast");
            }
        }
    }

    public void Broadcast(torch.Tensor tensor, int root)
    {
        ThrowIfDisposed();
        RequireRoot(root);
        TensorMemory.RequireFlatFloat(tensor, "broadcast", cuda: false);
        var api = Mpi;
        var data = TensorMemory.DataPointer(tensor);
        var count = tensor.numel();
        for (long offset = 0; offset < count; offset += MaxChunk)
        {
            var n = (int)Math.Min(MaxChunk, count - offset);
            Check(api.Bcast(data + (nint)(offset * sizeof(float)), n, api.Float, root, api.CommWorld), "MPI_Bcast");
        }
    }

    public void Barrier()
    {
        ThrowIfDisposed();
        Check(Mpi.Barrier(Mpi.CommWorld), "MPI_Barrier");
    }

    public void Abort(string message, int errorCode)
    {
        // stderr first: MPI_Abort's own banner does not carry our reason.
        Console.Error.WriteLine(message);
        Console.Error.Flush();
        Mpi.Abort(Mpi.CommWorld, errorCode);
        // MPI_Abort does not return when the runtime is alive; if it does, end this process.
        Environment.Exit(errorCode);
    }

    private void RequireRoot(int root)
    {
        if (root < 0 || root >= WorldSize) throw new DistributedException($"broadcast root must be in [0, {WorldSize - 1}] (got {root})");
    }

    private void ThrowIfDisposed() => ObjectDisposedException.ThrowIf(_disposed, this);

    /// <summary>MPI_Finalize. Every rank must reach it; after it no MPI call is possible in this process.</summary>
    public void Dispose()
    {
        lock (InitGate)
        {
            if (_disposed) return;
            _disposed = true;
            int finalized;
            if (Mpi.Finalized(&finalized) == Success && finalized == 0) Mpi.Finalize();
        }
    }
}
