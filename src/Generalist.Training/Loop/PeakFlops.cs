using System.Diagnostics;
using TorchSharp;
using static TorchSharp.torch;

namespace Generalist.Training.Loop;

/// <summary>
/// The machine's dense matmul peak, measured: the median FLOP/s of repeated large square matmuls
/// (2·n³ FLOPs each) in the given dtype, after a warm-up. This is the MFU denominator: model FLOP/s
/// over what this machine's matmul reaches in the same dtype, in the same run.
/// </summary>
public static class PeakFlops
{
    public const string EnvironmentVariable = "GENERALIST_PEAK_FLOPS";

    /// <summary>
    /// Warm-up runs for at least this long as well as at least <c>warmup</c> matmuls: on the 2-core
    /// machine a process's first ~1-1.5 s of matmuls run at half the peak (measured: 92-132, then
    /// 200-209 GFLOP/s fp32 at n = 2048), so a count-only warm-up measured a third of the peak and
    /// the training metrics showed MFU above 100%.
    /// </summary>
    public const double MinWarmupSeconds = 1.5;

    public static double Measure(ScalarType dtype, Device device, int size = 2048, int repeats = 5, int warmup = 2)
    {
        using var scope = NewDisposeScope();
        var a = randn([size, size], dtype: dtype, device: device);
        var b = randn([size, size], dtype: dtype, device: device);
        var flops = 2.0 * size * size * (double)size;
        var warming = Stopwatch.StartNew();
        for (var i = 0; i < warmup || warming.Elapsed.TotalSeconds < MinWarmupSeconds; i++) Time(a, b, device);
        var rates = new List<double>();
        for (var i = 0; i < repeats; i++) rates.Add(flops / Time(a, b, device));
        rates.Sort();
        return rates[rates.Count / 2];
    }

    private static double Time(Tensor a, Tensor b, Device device)
    {
        var clock = Stopwatch.StartNew();
        using (var c = a.matmul(b))
        {
            if (device.type == DeviceType.CUDA) cuda.synchronize();
        }
        return clock.Elapsed.TotalSeconds;
    }

    /// <summary>The config's value, else GENERALIST_PEAK_FLOPS, else a quick measurement.</summary>
    public static double Resolve(double configured, ScalarType dtype, Device device)
    {
        if (configured > 0) return configured;
        if (double.TryParse(Environment.GetEnvironmentVariable(EnvironmentVariable), System.Globalization.CultureInfo.InvariantCulture, out var env) && env > 0)
            return env;
        return Measure(dtype, device); // the benchmark's defaults, so a run's MFU and the bench's agree
    }
}
