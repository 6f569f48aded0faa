using TorchSharp;
using TorchSharp.Modules;
using static TorchSharp.torch;

namespace Generalist.Distributed;

/// <summary>
/// The gradients of a fixed parameter list laid out in a few contiguous float32 buffers (buckets of
/// at most BucketBytes, in parameter order), so one collective moves many tensors: per-tensor calls
/// would pay MPI's latency hundreds of times per step. A parameter larger than a bucket gets its own.
/// </summary>
public sealed class GradientBuckets : IDisposable
{
    public sealed record Slot(Parameter Parameter, long Offset, long Count);

    public sealed class Bucket(Tensor flat, IReadOnlyList<Slot> slots)
    {
        public Tensor Flat { get; } = flat;
        public IReadOnlyList<Slot> Slots { get; } = slots;
    }

    private readonly List<Bucket> _buckets = [];

    public IReadOnlyList<Bucket> Buckets => _buckets;
    public long ElementCount { get; }

    public GradientBuckets(IEnumerable<Parameter> parameters, long bucketBytes)
    {
        if (bucketBytes < sizeof(float)) throw new ArgumentOutOfRangeException(nameof(bucketBytes), "bucket size must be at least one float");
        var trainable = parameters.Where(p => p.requires_grad).ToList();
        if (trainable.Count == 0) throw new DistributedException("gradient averaging needs at least one trainable parameter");
        var device = trainable[0].device;
        var capacity = bucketBytes / sizeof(float);
        var pending = new List<Slot>();
        long used = 0;
        foreach (var p in trainable)
        {
            if (p.dtype != ScalarType.Float32)
                throw new DistributedException($"gradient averaging keeps float32 master weights (a parameter is {p.dtype})");
            if (p.device_type != device.type || p.device_index != device.index)
                throw new DistributedException($"all parameters must be on one device (found {device} and {p.device})");
            var n = p.numel();
            if (used > 0 && used + n > capacity)
            {
                Close();
            }
            pending.Add(new Slot(p, used, n));
            used += n;
            ElementCount += n;
        }
        Close();

        void Close()
        {
            _buckets.Add(new Bucket(zeros(used, dtype: ScalarType.Float32, device: device), pending.ToList()));
            pending.Clear();
            used = 0;
        }
    }

    /// <summary>Copies every gradient into its bucket; a parameter without a gradient contributes zeros.</summary>
    public void Pack()
    {
        using var _ = no_grad();
        foreach (var bucket in _buckets)
            foreach (var s in bucket.Slots)
            {
                var view = bucket.Flat.narrow(0, s.Offset, s.Count);
                using var grad = s.Parameter.grad;
                if (grad is null) view.zero_();
                else view.copy_(grad.reshape(-1));
            }
    }

    /// <summary>Writes the buckets back into the gradients (creating a gradient where a rank had none).</summary>
    public void Unpack()
    {
        using var _ = no_grad();
        foreach (var bucket in _buckets)
            foreach (var s in bucket.Slots)
            {
                var values = bucket.Flat.narrow(0, s.Offset, s.Count).view(s.Parameter.shape);
                using var grad = s.Parameter.grad;
                if (grad is null) s.Parameter.grad = values.clone();
                else grad.copy_(values);
            }
    }

    public void Dispose()
    {
        foreach (var b in _buckets) b.Flat.Dispose();
        _buckets.Clear();
    }
}
