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

    public static double Measure(ScalarType dtype, Device device, int size = 2048, int repeats = 5, int warmup = 2)
    {
        using var scope = NewDisposeScope();
        var a = randn([size, size], dtype: dtype, device: device);
        var b = randn([size, size], dtype: dtype, device: device);
        var flops = 2.0 * size * size * (double)size;
        var rates = new List<double>();
        for (var i = 0; i < warmup + repeats; i++)
        {
            var clock = Stopwatch.StartNew();
            using (var c = a.matmul(b))
            {
                if (device.type == DeviceType.CUDA) cuda.synchronize();
            }
            clock.Stop();
            if (i >= warmup) rates.Add(flops / clock.Elapsed.TotalSeconds);
        }
        rates.Sort();
        return rates[rates.Count / 2];
    }

    /// <summary>The config's value, else GENERALIST_PEAK_FLOPS, else a quick measurement.</summary>
    public static double Resolve(double configured, ScalarType dtype, Device device)
    {
        if (configured > 0) return configured;
        if (double.TryParse(Environment.GetEnvironmentVariable(EnvironmentVariable), System.Globalization.CultureInfo.InvariantCulture, out var env) && env > 0)
            return env;
        return Measure(dtype, device, size: 1024, repeats: 5, warmup: 2);
    }
}
