using TorchSharp;

namespace Generalist.Distributed;

/// <summary>
/// Several ranks as threads of one process, meeting at a <see cref="System.Threading.Barrier"/>.
/// It lets tests and single-machine experiments drive the real averaging and aggregation code with
/// any world size and no MPI. Sums run in rank order, so every rank gets bit-identical results.
/// </summary>
public sealed class InProcessGroup : IDisposable
{
    private readonly Barrier _barrier;
    private readonly CancellationTokenSource _abort = new();
    private readonly object?[] _slots;
    private string? _abortMessage;

    public int WorldSize { get; }

    public InProcessGroup(int worldSize)
    {
        if (worldSize < 1) throw new ArgumentOutOfRangeException(nameof(worldSize), "world size must be >= 1");
        WorldSize = worldSize;
        _barrier = new Barrier(worldSize);
        _slots = new object?[worldSize];
    }

    /// <summary>The communicator rank <paramref name="rank"/> uses (one per thread).</summary>
    public ICommunicator Rank(int rank) =>
        rank >= 0 && rank < WorldSize ? new InProcessCommunicator(this, rank) : throw new ArgumentOutOfRangeException(nameof(rank));

    /// <summary>Runs body(rank) on one thread per rank and returns each rank's result.</summary>
    public T[] Run<T>(Func<ICommunicator, T> body)
    {
        var results = new T[WorldSize];
        var errors = new Exception?[WorldSize];
        var threads = Enumerable.Range(0, WorldSize).Select(r => new Thread(() =>
        {
            try { results[r] = body(Rank(r)); }
            catch (Exception e) { errors[r] = e; AbortAll($"rank {r} failed: {e.Message}"); }
        }, 16 << 20)).ToList();
        threads.ForEach(t => t.Start());
        threads.ForEach(t => t.Join());
        var first = errors.FirstOrDefault(e => e is not null and not OperationCanceledException)
                    ?? errors.FirstOrDefault(e => e is not null);
        if (first is not null) throw new DistributedException($"in-process group failed: {first.Message}", first);
        return results;
    }

    internal void AbortAll(string message)
    {
        _abortMessage ??= message;
        _abort.Cancel();
    }

    internal void Sync()
    {
        try
        {
            _barrier.SignalAndWait(_abort.Token);
        }
        catch (OperationCanceledException e)
        {
            throw new DistributedException($"in-process group aborted: {_abortMessage}", e);
        }
    }

    internal void Put(int rank, object value) => _slots[rank] = value;
    internal T Get<T>(int rank) => (T)_slots[rank]!;

    public void Dispose()
    {
        _barrier.Dispose();
        _abort.Dispose();
    }
}

internal sealed class InProcessCommunicator(InProcessGroup group, int rank) : ICommunicator
{
    public int Rank => rank;
    public int WorldSize => group.WorldSize;
    public string Backend => "inprocess";

    public void AllReduceSum(Span<float> data)
    {
        group.Put(rank, data.ToArray());
        group.Sync();
        var sum = new float[data.Length];
        for (var r = 0; r < WorldSize; r++)
        {
            var other = group.Get<float[]>(r);
            if (other.Length != sum.Length) throw new DistributedException($"all-reduce: rank {r} sent {other.Length} floats, rank {rank} {sum.Length}");
            for (var i = 0; i < sum.Length; i++) sum[i] += other[i];
        }
        group.Sync();
        sum.CopyTo(data);
    }

    public void AllReduceSum(Span<double> data)
    {
        group.Put(rank, data.ToArray());
        group.Sync();
        var sum = new double[data.Length];
        for (var r = 0; r < WorldSize; r++)
        {
            var other = group.Get<double[]>(r);
            for (var i = 0; i < sum.Length; i++) sum[i] += other[i];
        }
        group.Sync();
        sum.CopyTo(data);
    }

    public void AllReduceSum(torch.Tensor tensor) => AllReduceSum(TensorMemory.CpuSpan(tensor, "all-reduce"));

    public void AllGather(ReadOnlySpan<float> send, Span<float> receive)
    {
        if (receive.Length != send.Length * WorldSize)
            throw new DistributedException($"all-gather: the receive buffer must hold {send.Length * WorldSize} floats (got {receive.Length})");
        group.Put(rank, send.ToArray());
        group.Sync();
        for (var r = 0; r < WorldSize; r++) group.Get<float[]>(r).CopyTo(receive.Slice(r * send.Length, send.Length));
        group.Sync();
    }

    public void AllGather(torch.Tensor send, torch.Tensor receive) =>
        AllGather(TensorMemory.CpuSpan(send, "all-gather send"), TensorMemory.CpuSpan(receive, "all-gather receive"));

    public void Broadcast(Span<byte> data, int root)
    {
        if (rank == root) group.Put(rank, data.ToArray());
        group.Sync();
        if (rank != root) group.Get<byte[]>(root).CopyTo(data);
        group.Sync();
    }

    public void Broadcast(torch.Tensor tensor, int root)
    {
        var span = TensorMemory.CpuSpan(tensor, "broadcast");
        if (rank == root) group.Put(rank, span.ToArray());
        group.Sync();
        if (rank != root) group.Get<float[]>(root).CopyTo(span);
        group.Sync();
    }

    public void Barrier() => group.Sync();

    public void Abort(string message, int errorCode)
    {
        group.AbortAll(message);
        throw new DistributedException(message);
    }

    public void Dispose() { }
}
