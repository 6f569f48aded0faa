using TorchSharp;

namespace Generalist.Distributed;

/// <summary>
/// Collectives across the ranks of one job. Every rank must call the same collectives in the same
/// order with the same lengths (the MPI rule); a rank that does not is caught by the watchdog
/// (<see cref="WatchedCommunicator"/>). Span overloads work on host memory; tensor overloads work in
/// place on a contiguous float32 tensor on the backend's device (CPU for MPI, CUDA for NCCL).
/// </summary>
public interface ICommunicator : IDisposable
{
    int Rank { get; }
    int WorldSize { get; }
    /// <summary>"local", "mpi", "nccl" or "inprocess".</summary>
    string Backend { get; }

    /// <summary>In place: every rank ends with the element-wise sum over ranks.</summary>
    void AllReduceSum(Span<float> data);
    /// <summary>In place, doubles: counts (loss tokens) are summed exactly up to 2^53.</summary>
    void AllReduceSum(Span<double> data);
    /// <summary>In place on a contiguous float32 tensor (one bucket, one call).</summary>
    void AllReduceSum(torch.Tensor tensor);

    /// <summary>receive[r * send.Length ..] = rank r's send; receive.Length == send.Length * WorldSize.</summary>
    void AllGather(ReadOnlySpan<float> send, Span<float> receive);
    /// <summary>Tensor form: receive is (WorldSize * send.numel) contiguous float32, rank-major.</summary>
    void AllGather(torch.Tensor send, torch.Tensor receive);

    /// <summary>Copies root's bytes into every rank's buffer.</summary>
    void Broadcast(Span<byte> data, int root);
    /// <summary>Copies root's tensor values into every rank's tensor (contiguous float32).</summary>
    void Broadcast(torch.Tensor tensor, int root);

    void Barrier();

    /// <summary>Ends every rank of the job at once (MPI_Abort) after printing the message; does not return.</summary>
    void Abort(string message, int errorCode);
}

/// <summary>Typed helpers shared by every communicator.</summary>
public static class CommunicatorExtensions
{
    /// <summary>Sums one count over ranks (exact for integers below 2^53).</summary>
    public static double SumOverRanks(this ICommunicator comm, double value)
    {
        Span<double> one = [value];
        comm.AllReduceSum(one);
        return one[0];
    }

    /// <summary>Broadcasts a UTF-8 string from root (its length first, then its bytes).</summary>
    public static string Broadcast(this ICommunicator comm, string? value, int root)
    {
        var bytes = comm.Rank == root ? System.Text.Encoding.UTF8.GetBytes(value ?? "") : [];
        Span<byte> length = stackalloc byte[4];
        if (comm.Rank == root) BitConverter.TryWriteBytes(length, bytes.Length);
        comm.Broadcast(length, root);
        var n = BitConverter.ToInt32(length);
        if (comm.Rank != root) bytes = new byte[n];
        comm.Broadcast(bytes, root);
        return System.Text.Encoding.UTF8.GetString(bytes);
    }

    /// <summary>Gathers one value per rank (rank-ordered).</summary>
    public static float[] GatherFromRanks(this ICommunicator comm, float value)
    {
        var all = new float[comm.WorldSize];
        comm.AllGather([value], all);
        return all;
    }
}
