using TorchSharp;

namespace Generalist.Distributed;

/// <summary>Runs every collective of an inner communicator under the watchdog's deadline.</summary>
public sealed class WatchedCommunicator(ICommunicator inner, CollectiveWatchdog watchdog) : ICommunicator
{
    public ICommunicator Inner => inner;
    public CollectiveWatchdog Watchdog => watchdog;
    public int Rank => inner.Rank;
    public int WorldSize => inner.WorldSize;
    public string Backend => inner.Backend;

    public void AllReduceSum(Span<float> data)
    {
        using var _ = watchdog.Enter("all_reduce");
        inner.AllReduceSum(data);
    }

    public void AllReduceSum(Span<double> data)
    {
        using var _ = watchdog.Enter("all_reduce");
        inner.AllReduceSum(data);
    }

    public void AllReduceSum(torch.Tensor tensor)
    {
        using var _ = watchdog.Enter("all_reduce");
        inner.AllReduceSum(tensor);
    }

    public void AllGather(ReadOnlySpan<float> send, Span<float> receive)
    {
        using var _ = watchdog.Enter("all_gather");
        inner.AllGather(send, receive);
    }

    public void AllGather(torch.Tensor send, torch.Tensor receive)
    {
        using var _ = watchdog.Enter("all_gather");
        inner.AllGather(send, receive);
    }

    public void Broadcast(Span<byte> data, int root)
    {
        using var _ = watchdog.Enter("broadcast");
        inner.Broadcast(data, root);
    }

    public void Broadcast(torch.Tensor tensor, int root)
    {
        using var _ = watchdog.Enter("broadcast");
        inner.Broadcast(tensor, root);
    }

    public void Barrier()
    {
        using var _ = watchdog.Enter("barrier");
        inner.Barrier();
    }

    /// <summary>A barrier with its own deadline, for waits known to be long (rank 0 writing a checkpoint).</summary>
    public void Barrier(TimeSpan timeout, string operation)
    {
        using var _ = watchdog.Enter(operation, timeout);
        inner.Barrier();
    }

    public void Abort(string message, int errorCode) => inner.Abort(message, errorCode);

    public void Dispose()
    {
        watchdog.Dispose();
        inner.Dispose();
    }
}
