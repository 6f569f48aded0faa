using TorchSharp;

namespace Generalist.Distributed;

/// <summary>A world of one: every collective is the identity, so single-process runs take the same code path.</summary>
public sealed class LocalCommunicator : ICommunicator
{
    public int Rank => 0;
    public int WorldSize => 1;
    public string Backend => "local";

    public void AllReduceSum(Span<float> data) { }
    public void AllReduceSum(Span<double> data) { }
    public void AllReduceSum(torch.Tensor tensor) { }

    public void AllGather(ReadOnlySpan<float> send, Span<float> receive)
    {
        if (receive.Length != send.Length)
            throw new DistributedException($"all-gather: the receive buffer must hold {send.Length} floats (got {receive.Length})");
        send.CopyTo(receive);
    }

    public void AllGather(torch.Tensor send, torch.Tensor receive)
    {
        if (receive.numel() != send.numel())
            throw new DistributedException($"all-gather: the receive buffer must hold {send.numel()} floats (got {receive.numel()})");
        using var _ = torch.no_grad();
        receive.copy_(send.reshape(receive.shape));
    }

    public void Broadcast(Span<byte> data, int root) => RequireRoot(root);
    public void Broadcast(torch.Tensor tensor, int root) => RequireRoot(root);
    public void Barrier() { }

    public void Abort(string message, int errorCode)
    {
        Console.Error.WriteLine(message);
        Console.Error.Flush();
        Environment.Exit(errorCode);
    }

    private static void RequireRoot(int root)
    {
        if (root != 0) throw new DistributedException($"broadcast root must be 0 in a world of one (got {root})");
    }

    public void Dispose() { }
}
