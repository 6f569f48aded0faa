using System.Collections.Concurrent;
using TorchSharp;

namespace Generalist.Torch;

/// <summary>
/// Numbers handed to TorchSharp, kept alive for the whole native call.
/// TorchSharp 0.107 turns a number argument (<c>x * 0.5</c>, <c>t.ge(0)</c>, <c>arange(a, b)</c>,
/// <c>clamp_min(1)</c>) into a native <see cref="Scalar"/> that only its finalizer owns, and passes
/// the raw handle on: a collection triggered by another thread during the call frees the Scalar
/// under libtorch ("Expected false to be true ... c10::Scalar::toDouble", seen at step 42 of a
/// catch run and at step ~370 of the demo). So the model, trainer and evaluator never let the
/// compiler make such a Scalar (a test scans their IL for it); they use one of these instead:
/// <list type="bullet">
/// <item><see cref="Of(long)"/> / <see cref="Of(double)"/>: constants, cached for the life of the
/// process (a static root, so never finalized). Only for a bounded set of values: literals,
/// config values, bin counts, context positions.</item>
/// <item><c>using var s = value.ToScalar();</c> for a value that changes every step (a learning
/// rate, a token count): disposed after the call, so it is reachable throughout it.</item>
/// </list>
/// Integer and floating constants are kept apart because libtorch promotes an integer tensor
/// compared or clamped with a floating Scalar.
/// </summary>
public static class Scalars
{
    private static readonly ConcurrentDictionary<long, Scalar> Integers = new();
    private static readonly ConcurrentDictionary<double, Scalar> Reals = new();

    /// <summary>An integer Scalar that lives as long as the process.</summary>
    public static Scalar Of(long value) => Integers.GetOrAdd(value, v => v.ToScalar());

    /// <summary>A floating-point (float64) Scalar that lives as long as the process.</summary>
    public static Scalar Of(double value) => Reals.GetOrAdd(value, v => v.ToScalar());
}
