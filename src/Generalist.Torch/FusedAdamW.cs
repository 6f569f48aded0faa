using System.Runtime.InteropServices;
using TorchSharp;
using static TorchSharp.torch;

namespace Generalist.Torch;

/// <summary>
/// libtorch's fused AdamW kernel (`torch._fused_adamw_`) and the foreach gradient-norm clip,
/// reached through a TorchScript compilation unit because TorchSharp 0.107 wraps neither: one
/// kernel over every parameter instead of optim.AdamW's ~9 per parameter, 2.5-3x faster on CPU.
/// Use <see cref="TryCreate"/>; callers fall back to a per-parameter AdamW when it returns null.
/// </summary>
public sealed class FusedAdamW : IDisposable
{
    // The kernel does not increment `steps` itself (torch.optim.AdamW does it just before the
    // call), and when found_inf is 1 it leaves params and moments untouched, so the increment is
    // undone afterwards exactly as torch.optim's _fused_adamw does. found_inf lets the trainer
    // skip a non-finite step without reading anything back to the host first.
    // Hyper-parameters travel in one float64 CPU tensor, not as float arguments: TorchSharp 0.107
    // marshals a float argument through a native Scalar that it does not keep alive across the
    // call, and under GC pressure (a training run inside the service) the native call read a freed
    // Scalar ("c10::Scalar::toLong ... Expected false to be true" at step ~370 of the demo). A
    // tensor the caller holds cannot be collected mid-call; float() of a CPU tensor never syncs a GPU.
    private const string Script = """
def adamw_step(params: List[Tensor], grads: List[Tensor], exp_avgs: List[Tensor], exp_avg_sqs: List[Tensor], steps: List[Tensor], hyper: Tensor, found_inf: Tensor):
    lr = float(hyper[0])
    beta1 = float(hyper[1])
    beta2 = float(hyper[2])
    weight_decay = float(hyper[3])
    eps = float(hyper[4])
    empty: List[Tensor] = []
    torch._foreach_add_(steps, 1.0)
    torch._fused_adamw_(params, grads, exp_avgs, exp_avg_sqs, empty, steps, lr=lr, beta1=beta1, beta2=beta2, weight_decay=weight_decay, eps=eps, amsgrad=False, maximize=False, grad_scale=None, found_inf=found_inf)
    torch._foreach_sub_(steps, found_inf)
    return found_inf

def clip_grad_norm(grads: List[Tensor], max_norm_tensor: Tensor):
    max_norm = float(max_norm_tensor)
    norms = torch._foreach_norm(grads, 2.0)
    total = torch.stack(norms).norm()
    coef = torch.clamp(max_norm / (total + 1e-6), max=1.0)
    torch._foreach_mul_(grads, coef)
    return total

""";

    private readonly jit.CompilationUnit _unit;

    private FusedAdamW(jit.CompilationUnit unit) => _unit = unit;

    /// <summary>Why the last <see cref="TryCreate"/> failed, for logs; null when it worked.</summary>
    public static string? LastFailure { get; private set; }

    /// <summary>Compiles the script; null (and <see cref="LastFailure"/> set) when this libtorch cannot.</summary>
    public static FusedAdamW? TryCreate()
    {
        TorchRuntime.EnsureLoaded();
        try
        {
            var fused = new FusedAdamW(jit.compile(Script));
            LastFailure = null;
            return fused;
        }
        catch (Exception e) when (e is ExternalException or InvalidOperationException or ArgumentException or NotSupportedException)
        {
            LastFailure = e.Message;
            return null;
        }
    }

    /// <summary>
    /// One AdamW update over a group sharing hyper-parameters. <paramref name="steps"/> are float32
    /// scalar tensors (one per parameter) incremented here; <paramref name="foundInf"/> is a float32
    /// scalar, 1 to skip the update (params, moments and steps unchanged), 0 to apply it.
    /// </summary>
    public void Step(Tensor[] parameters, Tensor[] grads, Tensor[] expAvgs, Tensor[] expAvgSqs, Tensor[] steps,
        double lr, double beta1, double beta2, double weightDecay, double eps, Tensor foundInf)
    {
        if (parameters.Length == 0) return;
        using var hyper = tensor(new[] { lr, beta1, beta2, weightDecay, eps }, ScalarType.Float64);
        using var _ = _unit.invoke("adamw_step", parameters, grads, expAvgs, expAvgSqs, steps, hyper, foundInf) as IDisposable;
        GC.KeepAlive(hyper);
    }

    /// <summary>
    /// Scales <paramref name="grads"/> in place so their global L2 norm is at most maxNorm and
    /// returns the norm before clipping as a scalar tensor: no host read.
    /// </summary>
    public Tensor ClipGradNorm(Tensor[] grads, double maxNorm)
    {
        using var limit = tensor(maxNorm, ScalarType.Float64);
        var total = (Tensor)_unit.invoke("clip_grad_norm", grads, limit);
        GC.KeepAlive(limit);
        return total;
    }

    public void Dispose() => _unit.Dispose();
}
