using Generalist.Torch;
using static TorchSharp.torch;

namespace Generalist.Distributed;

/// <summary>
/// A rule that turns the gradients of all ranks, stacked as G (W, N), into one gradient (N). Every
/// rank gathers the same G and applies the same deterministic rule, so every rank gets the same
/// result without another collective. Robust rules bound what a minority of bad ranks (faulty or
/// malicious hardware, volunteers) can do to the update, at the cost of an all-gather instead of an
/// all-reduce (W times the traffic) and a sort or a few passes over G.
/// </summary>
public interface IGradientAggregator
{
    string Name { get; }
    /// <summary>True for the plain mean, which an all-reduce computes without gathering.</summary>
    bool IsMean { get; }
    /// <summary>G: (W, N) float32, row r = rank r's gradient. Returns (N) on G's device.</summary>
    Tensor Aggregate(Tensor gathered);
}

/// <summary>
/// A rule that carries state from one step to the next (centered clipping's center). The state is
/// saved with every checkpoint and restored on resume or rollback, so a resumed run continues
/// exactly as if it had not stopped.
/// </summary>
public interface IStatefulGradientAggregator : IGradientAggregator
{
    /// <summary>The checkpoint entry name of the state (in optimizer.safetensors).</summary>
    string StateName { get; }
    /// <summary>The state, 1-D float32 of the gradient's length, or null while there is none yet.</summary>
    Tensor? State { get; }
    /// <summary>Replaces the state (null = none, as at the first step); the tensor is copied.</summary>
    void LoadState(Tensor? state);
}

public static class GradientAggregators
{
    /// <summary>The rule the run config names (<see cref="DistributedConfig.Aggregation"/>).</summary>
    public static IGradientAggregator FromConfig(DistributedConfig config) => config.Aggregation switch
    {
        DistributedConfig.Mean => new MeanAggregator(),
        DistributedConfig.TrimmedMean => new TrimmedMeanAggregator(config.TrimFraction),
        DistributedConfig.Median => new MedianAggregator(),
        DistributedConfig.CenteredClip => new CenteredClipAggregator(config.ClipRadius, config.ClipIterations),
        _ => throw new DistributedException($"distributed.aggregation must be one of {string.Join(", ", DistributedConfig.AggregationRules)} (got '{config.Aggregation}')"),
    };
}

/// <summary>The arithmetic mean: what plain data parallelism computes.</summary>
public sealed class MeanAggregator : IGradientAggregator
{
    public string Name => DistributedConfig.Mean;
    public bool IsMean => true;
    public Tensor Aggregate(Tensor gathered) => gathered.mean([0]);
}

/// <summary>
/// Coordinate-wise trimmed mean (Yin et al. 2018): per coordinate, drop the b = floor(fraction * W)
/// largest and b smallest values and average the rest. Tolerates b bad ranks.
/// </summary>
public sealed class TrimmedMeanAggregator(double fraction) : IGradientAggregator
{
    public string Name => DistributedConfig.TrimmedMean;
    public bool IsMean => false;
    public double Fraction { get; } = fraction is >= 0 and < 0.5
        ? fraction
        : throw new DistributedException($"distributed.trim_fraction must be in [0, 0.5) (got {fraction})");

    public int Trimmed(int world) => (int)Math.Floor(Fraction * world);

    public Tensor Aggregate(Tensor gathered)
    {
        var w = (int)gathered.shape[0];
        var b = Trimmed(w);
        if (b == 0) return gathered.mean([0]);
        var sorted = gathered.sort(dim: 0).Values;
        return sorted.narrow(0, b, w - 2 * b).mean([0]);
    }
}

/// <summary>Coordinate-wise median (Yin et al. 2018); with an even W the mean of the two middle values.</summary>
public sealed class MedianAggregator : IGradientAggregator
{
    public string Name => DistributedConfig.Median;
    public bool IsMean => false;

    public Tensor Aggregate(Tensor gathered)
    {
        var w = (int)gathered.shape[0];
        if (w <= 2) return gathered.mean([0]);
        var sorted = gathered.sort(dim: 0).Values;
        return w % 2 == 1 ? sorted[w / 2].clone() : sorted.narrow(0, w / 2 - 1, 2).mean([0]);
    }
}

/// <summary>
/// Centered clipping (Karimireddy, He and Jaggi 2021, "Learning from History for Byzantine Robust
/// Optimization"): start from the previous step's aggregate v and repeat
/// v &lt;- v + mean_i (g_i - v) * min(1, radius / ||g_i - v||). A bad rank moves v by at most
/// radius / W per iteration, while honest gradients near v pass unclipped. The paper starts from
/// the last aggregate (its "momentum"); with no history yet (first step, or after a resume) this
/// starts from the coordinate-wise median, which is already robust. The center is checkpointed
/// (<see cref="IStatefulGradientAggregator"/>), so a resumed run clips around the same history.
/// Radius 0 picks the radius each iteration as the median over ranks of ||g_i - v||: with an honest
/// majority that is the honest ranks' own spread, so honest gradients are barely clipped whatever
/// the gradient scale, while a far-off rank is cut to that spread.
/// </summary>
public sealed class CenteredClipAggregator(double radius, int iterations) : IStatefulGradientAggregator, IDisposable
{
    public const string CenterEntry = "distributed.centered_clip.center";

    private Tensor? _center;

    public string StateName => CenterEntry;
    public Tensor? State => _center;

    public void LoadState(Tensor? state)
    {
        if (state is not null && state.dim() != 1)
            throw new DistributedException($"{CenterEntry} must be a 1-D tensor (got shape [{string.Join(", ", state.shape)}])");
        Reset();
        if (state is null) return;
        using var scope = NewDisposeScope();
        _center = state.to(ScalarType.Float32).clone().DetachFromDisposeScope();
    }

    public string Name => DistributedConfig.CenteredClip;
    public bool IsMean => false;
    public double Radius { get; } = radius >= 0 && double.IsFinite(radius) ? radius
        : throw new DistributedException($"distributed.clip_radius must be a finite number >= 0 (got {radius}; 0 = adaptive)");
    public int Iterations { get; } = iterations is >= 1 and <= 100 ? iterations
        : throw new DistributedException($"distributed.clip_iterations must be in [1, 100] (got {iterations})");

    public Tensor Aggregate(Tensor gathered)
    {
        using var scope = NewDisposeScope();
        if (_center is not null && _center.shape[0] != gathered.shape[1])
            throw new DistributedException($"{CenterEntry} has {_center.shape[0]} values but the gradient has {gathered.shape[1]} (a checkpoint of another model?)");
        var v = _center is null ? new MedianAggregator().Aggregate(gathered) : _center.to(gathered.device).clone();
        for (var i = 0; i < Iterations; i++)
        {
            var diff = gathered - v.unsqueeze(0);                                  // (W, N)
            var norms = diff.norm(1, keepdim: true);                               // (W, 1)
            var radius = Radius > 0 ? Radius : MedianNorm(norms);
            var scale = (Scalars.Of(radius) / norms.clamp_min(Scalars.Of(1e-12))).clamp_max(Scalars.Of(1.0));          // (W, 1)
            v = v + (diff * scale).mean([0]);
        }
        _center?.Dispose();
        _center = v.detach().clone().DetachFromDisposeScope();
        return v.clone().MoveToOuterDisposeScope();
    }

    private static double MedianNorm(Tensor norms)
    {
        var sorted = norms.reshape(-1).sort().Values.data<float>().ToArray();
        var w = sorted.Length;
        return w % 2 == 1 ? sorted[w / 2] : 0.5 * (sorted[w / 2 - 1] + sorted[w / 2]);
    }

    /// <summary>Forgets the history (the next step starts from the median).</summary>
    public void Reset()
    {
        _center?.Dispose();
        _center = null;
    }

    public void Dispose() => Reset();
}
