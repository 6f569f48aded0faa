using TorchSharp;
using static Generalist.Distributed.NcclNative;

namespace Generalist.Distributed;

/// <summary>
/// GPU collectives through NCCL on CUDA tensors' device pointers, enqueued on the legacy default
/// stream (0), which is the stream TorchSharp's kernels run on, so no extra stream ordering is
/// needed. MPI carries the start-up exchange (rank 0's ncclUniqueId goes to everyone by MPI_Bcast)
/// and every host-memory collective (counts, strings, barriers). Each rank drives the GPU
/// local_rank % device_count; the trainer puts its tensors there.
/// Calls end with a device synchronisation, so the watchdog's deadline covers the GPU work too
/// (NCCL kernels run asynchronously; without it a dead peer would surface at some later sync).
/// </summary>
public sealed unsafe class NcclCommunicator : ICommunicator
{
    private readonly MpiCommunicator _mpi;
    private nint _comm;

    public int Rank => _mpi.Rank;
    public int WorldSize => _mpi.WorldSize;
    public string Backend => "nccl";
    public int CudaDevice { get; }

    private NcclCommunicator(MpiCommunicator mpi, nint comm, int cudaDevice)
    {
        _mpi = mpi;
        _comm = comm;
        CudaDevice = cudaDevice;
    }

    /// <summary>Creates the NCCL communicator of MPI_COMM_WORLD (collective: every rank must call it).</summary>
    public static NcclCommunicator Create(MpiCommunicator mpi, int localRank)
    {
        if (!torch.cuda.is_available())
            throw new DistributedException("the NCCL backend needs CUDA, but libtorch reports no CUDA device (load a CUDA libtorch with GENERALIST_LIBTORCH)");
        var api = Nccl;
        var device = localRank % Math.Max(1, torch.cuda.device_count());
        CudaRuntime.SetDevice(device);
        UniqueId id = default;
        if (mpi.Rank == 0) Check(api.GetUniqueId(&id), "ncclGetUniqueId");
        mpi.Broadcast(new Span<byte>(id.Internal, UniqueIdBytes), 0);
        nint comm;
        Check(api.CommInitRank(&comm, mpi.WorldSize, id, mpi.Rank), "ncclCommInitRank");
        return new NcclCommunicator(mpi, comm, device);
    }

    public void AllReduceSum(Span<float> data) => _mpi.AllReduceSum(data);
    public void AllReduceSum(Span<double> data) => _mpi.AllReduceSum(data);

    public void AllReduceSum(torch.Tensor tensor)
    {
        if (tensor.device_type != DeviceType.CUDA) { _mpi.AllReduceSum(tensor); return; }
        TensorMemory.RequireFlatFloat(tensor, "all-reduce", cuda: true);
        var p = TensorMemory.DataPointer(tensor);
        Check(Nccl.AllReduce(p, p, (nuint)tensor.numel(), Float32, Sum, _comm, 0), "ncclAllReduce");
        torch.cuda.synchronize();
    }

    public void AllGather(ReadOnlySpan<float> send, Span<float> receive) => _mpi.AllGather(send, receive);

    public void AllGather(torch.Tensor send, torch.Tensor receive)
    {
        if (send.device_type != DeviceType.CUDA) { _mpi.AllGather(send, receive); return; }
        TensorMemory.RequireFlatFloat(send, "all-gather send", cuda: true);
        TensorMemory.RequireFlatFloat(receive, "all-gather receive", cuda: true);
        if (receive.numel() != send.numel() * WorldSize)
            throw new DistributedException($"all-gather: the receive buffer must hold {send.numel() * WorldSize} floats (got {receive.numel()})");
        Check(Nccl.AllGather(TensorMemory.DataPointer(send), TensorMemory.DataPointer(receive), (nuint)send.numel(), Float32, _comm, 0), "ncclAllGather");
        torch.cuda.synchronize();
    }

    public void Broadcast(Span<byte> data, int root) => _mpi.Broadcast(data, root);

    public void Broadcast(torch.Tensor tensor, int root)
    {
        if (tensor.device_type != DeviceType.CUDA) { _mpi.Broadcast(tensor, root); return; }
        TensorMemory.RequireFlatFloat(tensor, "broadcast", cuda: true);
        var p = TensorMemory.DataPointer(tensor);
        Check(Nccl.Broadcast(p, p, (nuint)tensor.numel(), Float32, root, _comm, 0), "ncclBroadcast");
        torch.cuda.synchronize();
    }

    public void Barrier() => _mpi.Barrier();

    public void Abort(string message, int errorCode)
    {
        // Abort NCCL first so no kernel keeps the GPU waiting on a dead peer, then end the job.
        if (_comm != 0) Nccl.CommAbort(_comm);
        _comm = 0;
        _mpi.Abort(message, errorCode);
    }

    public void Dispose()
    {
        if (_comm != 0) Nccl.CommDestroy(_comm);
        _comm = 0;
        _mpi.Dispose();
    }
}

/// <summary>cudaSetDevice, which TorchSharp does not expose; NCCL binds a communicator to the current device.</summary>
internal static unsafe class CudaRuntime
{
    public static void SetDevice(int device)
    {
        if (device == 0) return; // device 0 is current in a fresh process
        foreach (var name in new[] { "libcudart.so.13", "libcudart.so.12", "libcudart.so.11.0", "libcudart.so" })
        {
            if (!System.Runtime.InteropServices.NativeLibrary.TryLoad(name, out var lib)) continue;
            if (!System.Runtime.InteropServices.NativeLibrary.TryGetExport(lib, "cudaSetDevice", out var fn)) continue;
            var code = ((delegate* unmanaged[Cdecl]<int, int>)fn)(device);
            if (code != 0) throw new DistributedException($"cudaSetDevice({device}) failed with CUDA error {code}");
            return;
        }
        throw new DistributedException(
            $"this rank must use CUDA device {device}, but no libcudart could be loaded to select it. " +
            "Fix: add the CUDA runtime's lib directory to LD_LIBRARY_PATH, or run one rank per machine with CUDA_VISIBLE_DEVICES set per rank.");
    }
}
