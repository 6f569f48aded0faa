using Generalist.Torch;
using TorchSharp;
using TorchSharp.Modules;
using static TorchSharp.torch;
using Generalist.RunFormat;

namespace Generalist.Training.Optim;

/// <summary>Hyper-parameters of <see cref="AdamW"/>; the learning rate comes per step from the schedule.</summary>
public sealed record AdamWOptions(double Beta1 = 0.9, double Beta2 = 0.95, double Eps = 1e-8, double WeightDecay = 0.1, bool Fused = true,
    bool DecayTokenEmbedding = true)
{
    /// <summary>The token embedding's checkpoint key (the tied head's rows too).</summary>
    public const string TokenEmbedding = "token_embedding.weight";

    public static AdamWOptions From(OptimizerConfig o) => new(o.Beta1, o.Beta2, 1e-8, o.WeightDecay, o.Fused, o.DecayTokenEmbedding);

    /// <summary>nanoGPT's rule (2-D weights decay), with the token embedding optionally exempt.</summary>
    public bool Decays(string name, Tensor param) => param.dim() == 2 && (DecayTokenEmbedding || name != TokenEmbedding);
}

/// <summary>
/// AdamW over named parameters, with weight decay only on 2-D (matrix) weights: norms, biases and
/// position tables of other ranks are not decayed (nanoGPT's rule). Uses libtorch's fused kernel
/// (<see cref="FusedAdamW"/>) when it compiles, else the per-parameter update of torch.optim.AdamW
/// (same arithmetic). The moments live here rather than in optim.AdamW so that they can be saved to
/// and loaded from safetensors by parameter name.
/// </summary>
public sealed class AdamW : IDisposable
{
    private readonly AdamWOptions _options;
    private readonly FusedAdamW? _fused;
    private readonly Group _decay;
    private readonly Group _noDecay;

    private sealed record Group(string[] Names, Tensor[] Params, Tensor[] ExpAvg, Tensor[] ExpAvgSq, Tensor[] Steps, double WeightDecay);

    public AdamW(IEnumerable<(string Name, Parameter Param)> parameters, AdamWOptions options)
    {
        _options = options;
        _fused = options.Fused ? FusedAdamW.TryCreate() : null;
        var trainable = parameters.Where(p => p.Param.requires_grad).ToList();
        _decay = MakeGroup(trainable.Where(p => options.Decays(p.Name, p.Param)), options.WeightDecay);
        _noDecay = MakeGroup(trainable.Where(p => !options.Decays(p.Name, p.Param)), 0.0);
    }

    /// <summary>True when the fused kernel is in use; <see cref="FusedFailure"/> says why not otherwise.</summary>
    public bool IsFused => _fused is not null;
    public string? FusedFailure => _options.Fused && _fused is null ? FusedAdamW.LastFailure : null;

    public IEnumerable<Tensor> Parameters => _decay.Params.Concat(_noDecay.Params);

    private static Group MakeGroup(IEnumerable<(string Name, Parameter Param)> ps, double wd)
    {
        var list = ps.ToList();
        using var _ = no_grad();
        return new Group(
            list.Select(p => p.Name).ToArray(),
            list.Select(p => (Tensor)p.Param).ToArray(),
            list.Select(p => zeros_like(p.Param).DetachFromDisposeScope()).ToArray(),
            list.Select(p => zeros_like(p.Param).DetachFromDisposeScope()).ToArray(),
            list.Select(p => zeros(Array.Empty<long>(), ScalarType.Float32, p.Param.device).DetachFromDisposeScope()).ToArray(),
            wd);
    }

    /// <summary>
    /// Clips all gradients to a global L2 norm of <paramref name="maxNorm"/> and returns the norm
    /// before clipping, as a scalar tensor (no host read).
    /// </summary>
    public Tensor ClipGradients(double maxNorm)
    {
        var grads = Parameters.Select(p => p.grad).Where(g => g is not null).Select(g => g!).ToArray();
        if (grads.Length == 0) return zeros(Array.Empty<long>());
        if (_fused is not null) return _fused.ClipGradNorm(grads, maxNorm);
        using var _ = no_grad();
        var total = stack(grads.Select(g => g.norm()).ToArray()).norm();
        using var limit = maxNorm.ToScalar();
        var coef = (total + Scalars.Of(1e-6)).reciprocal().mul_(limit).clamp_max(Scalars.Of(1.0));
        foreach (var g in grads) g.mul_(coef);
        return total;
    }

    /// <summary>
    /// One update at learning rate <paramref name="lr"/>. <paramref name="skip"/> is a float32 scalar
    /// tensor, 1 when the step's loss or gradient norm was not finite: nothing changes then. The
    /// fused kernel takes it on the device; the fallback reads it (one host sync).
    /// </summary>
    public void Step(double lr, Tensor skip)
    {
        using var _ = no_grad();
        if (_fused is not null)
        {
            foreach (var g in new[] { _decay, _noDecay })
            {
                if (g.Params.Length == 0) continue;
                var grads = g.Params.Select(p => p.grad ?? zeros_like(p)).ToArray();
                _fused.Step(g.Params, grads, g.ExpAvg, g.ExpAvgSq, g.Steps, lr, _options.Beta1, _options.Beta2, g.WeightDecay, _options.Eps, skip);
            }
        }
        else
        {
            if (skip.item<float>() != 0) return;
            foreach (var g in new[] { _decay, _noDecay })
                for (var i = 0; i < g.Params.Length; i++)
                    if (g.Params[i].grad is { } grad) Update(g, i, grad, lr);
        }
    }

    // torch.optim.AdamW's single-tensor arithmetic.
    private void Update(Group g, int i, Tensor grad, double lr)
    {
        var p = g.Params[i];
        // Every number is an explicit Scalar kept alive through its call (Generalist.Torch.Scalars).
        g.Steps[i].add_(Scalars.Of(1.0));
        var step = g.Steps[i].item<float>();
        using var decay = (1 - lr * g.WeightDecay).ToScalar();
        p.mul_(decay);
        using var blend = torch.tensor(1 - _options.Beta1, grad.dtype, grad.device);
        g.ExpAvg[i].lerp_(grad, blend);
        g.ExpAvgSq[i].mul_(Scalars.Of(_options.Beta2)).addcmul_(grad, grad, Scalars.Of(1 - _options.Beta2));
        var bias1 = 1 - Math.Pow(_options.Beta1, step);
        using var bias2Sqrt = Math.Sqrt(1 - Math.Pow(_options.Beta2, step)).ToScalar();
        using var denom = (g.ExpAvgSq[i].sqrt() / bias2Sqrt).add_(Scalars.Of(_options.Eps));
        using var stepSize = (-lr / bias1).ToScalar();
        p.addcdiv_(g.ExpAvg[i], denom, stepSize);
    }

    /// <summary>Updates applied so far, read from the device step counters (a host read; for tests and checks).</summary>
    public long ReadStepCount()
    {
        var first = _decay.Steps.Concat(_noDecay.Steps).FirstOrDefault();
        return first is null ? 0 : (long)first.item<float>();
    }

    public void ZeroGrad()
    {
        foreach (var p in Parameters) p.grad = null;
    }

    /// <summary>Moments by parameter name ("exp_avg.NAME", "exp_avg_sq.NAME"), for the checkpoint.</summary>
    public List<(string Name, Tensor Tensor)> StateTensors()
    {
        var result = new List<(string, Tensor)>();
        foreach (var g in new[] { _decay, _noDecay })
            for (var i = 0; i < g.Names.Length; i++)
            {
                result.Add(("exp_avg." + g.Names[i], g.ExpAvg[i]));
                result.Add(("exp_avg_sq." + g.Names[i], g.ExpAvgSq[i]));
            }
        return result;
    }

    /// <summary>Loads moments saved by <see cref="StateTensors"/> and sets every step counter; throws naming a missing or misshapen entry.</summary>
    public void LoadState(IReadOnlyDictionary<string, Tensor> state, long stepCount, string source)
    {
        using var _ = no_grad();
        using var steps = stepCount.ToScalar();
        foreach (var g in new[] { _decay, _noDecay })
            for (var i = 0; i < g.Names.Length; i++)
            {
                Copy(state, "exp_avg." + g.Names[i], g.ExpAvg[i], source);
                Copy(state, "exp_avg_sq." + g.Names[i], g.ExpAvgSq[i], source);
                g.Steps[i].fill_(steps);
            }
    }

    private static void Copy(IReadOnlyDictionary<string, Tensor> state, string key, Tensor target, string source)
    {
        if (!state.TryGetValue(key, out var t)) throw new InvalidDataException($"{source}: missing optimizer tensor '{key}'");
        if (!t.shape.SequenceEqual(target.shape)) throw new InvalidDataException($"{source}: optimizer tensor '{key}' has shape [{string.Join(",", t.shape)}], expected [{string.Join(",", target.shape)}]");
        target.copy_(t);
    }

    public void Dispose()
    {
        foreach (var g in new[] { _decay, _noDecay })
            foreach (var t in g.ExpAvg.Concat(g.ExpAvgSq).Concat(g.Steps)) t.Dispose();
        _fused?.Dispose();
    }
}
