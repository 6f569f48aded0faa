using Generalist.Model;
using Generalist.Tokenizers;
using Generalist.Training.Loop;
using Generalist.Training.Optim;
using TorchSharp;
using static TorchSharp.torch;
using Generalist.Torch;

namespace Generalist.Cli.Commands.Bench;

/// <summary>What the training benchmark measures; every figure is a median over Repeats.</summary>
public sealed record TrainingBenchmarkOptions(string Preset, string Device, int Repeats, int BatchSize = 4, int WarmupSteps = 2, int MatmulSize = 2048);

/// <summary>Training-step figures in one precision.</summary>
public sealed record PrecisionFigures(
    string Precision,
    double PeakFlops,
    double TokensPerSecond,
    double Mfu,
    double StepSeconds,
    double DataSeconds,
    double ForwardSeconds,
    double BackwardSeconds,
    double OptimizerSeconds,
    double OptimizerShare);

public sealed record TrainingBenchmarkResult(
    string Preset,
    string Device,
    int Threads,
    int BatchSize,
    int ContextLength,
    double FlopsPerToken,
    bool FusedAdamW,
    int Repeats,
    PrecisionFigures Fp32,
    PrecisionFigures Bf16,
    double Bf16Speedup)
{
    /// <summary>Issue targets on CPU: fp32 MFU >= 70%, bf16 >= 2x fp32 tokens/s, optimizer <= 5% of the step.</summary>
    public bool MeetsFp32MfuTarget => Fp32.Mfu >= 0.70;
    public bool MeetsBf16SpeedupTarget => Bf16Speedup >= 2.0;
    public bool MeetsOptimizerShareTarget => Fp32.OptimizerShare <= 0.05 && Bf16.OptimizerShare <= 0.05;
}

/// <summary>
/// `generalist bench --train`: in one run, the machine's matmul peak per dtype (median of large
/// square matmuls), then the preset's training steps (forward, backward, clip, fused AdamW) in
/// fp32 and in bf16 autocast: tokens/s, MFU against the same run's peak in that dtype, the bf16
/// speed-up and the optimizer's share of the step. Random-token batches of the preset's context.
/// </summary>
public static class TrainingBenchmark
{
    public static TrainingBenchmarkResult Run(TrainingBenchmarkOptions options, Action<string>? log = null)
    {
        if (options.Repeats < 1) throw new ArgumentException($"repeats must be at least 1 (got {options.Repeats})");
        var device = ComputeSettings.ParseDevice(options.Device) == ComputeDevice.Cuda ? CUDA : CPU;
        if (device.type == DeviceType.CUDA && !cuda.is_available()) throw new ArgumentException("--device cuda: no CUDA device is available");
        var config = ModelPresets.Get(options.Preset);

        log?.Invoke($"matmul peak: {options.MatmulSize}x{options.MatmulSize}, fp32 and bf16, median of {Math.Max(options.Repeats, 5)}");
        var peak32 = PeakFlops.Measure(ScalarType.Float32, device, options.MatmulSize, Math.Max(options.Repeats, 5));
        var peak16 = PeakFlops.Measure(ScalarType.BFloat16, device, options.MatmulSize, Math.Max(options.Repeats, 5));

        var fp32 = Steps(config, options, device, Precision.Fp32, peak32, log, out var flopsPerToken, out var fused);
        var bf16 = Steps(config, options, device, Precision.Bf16, peak16, log, out _, out _);
        return new TrainingBenchmarkResult(options.Preset, options.Device, get_num_threads(), options.BatchSize, config.ContextLength,
            flopsPerToken, fused, options.Repeats, fp32, bf16, bf16.TokensPerSecond / fp32.TokensPerSecond);
    }

    private static PrecisionFigures Steps(ModelConfig config, TrainingBenchmarkOptions options, Device device, Precision precision,
        double peak, Action<string>? log, out double flopsPerToken, out bool fused)
    {
        log?.Invoke($"{precision.Name()}: {options.WarmupSteps} warm-up + {options.Repeats} measured training steps of {options.Preset} (batch {options.BatchSize} x {config.ContextLength})");
        using var model = new GeneralistModel(config, seed: 1);
        model.to(device);
        model.train();
        using var optimizer = new AdamW(model.named_parameters().Select(p => (p.name, p.parameter)), new AdamWOptions());
        fused = optimizer.IsFused;
        flopsPerToken = model.EstimateFlopsPerToken();
        var data = new RandomTokenBatches(options.BatchSize, config.ContextLength, VocabularyLayout.Default.TextVocabSize, seed: 1);
        var executor = new StepExecutor(model, optimizer, new StepOptions(1, 1.0, precision, device));
        var results = new List<TrainingStepResult>();
        for (var i = 0; i < options.WarmupSteps + options.Repeats; i++)
        {
            var r = executor.Run(data, learningRate: 1e-4);
            if (i >= options.WarmupSteps) results.Add(r);
        }
        double Median(Func<TrainingStepResult, double> f)
        {
            var v = results.Select(f).Order().ToArray();
            return v.Length % 2 == 1 ? v[v.Length / 2] : (v[v.Length / 2 - 1] + v[v.Length / 2]) / 2;
        }
        var tps = Median(r => r.Tokens / r.TotalSeconds);
        return new PrecisionFigures(precision.Name(), peak, tps, tps * flopsPerToken / peak, Median(r => r.TotalSeconds),
            Median(r => r.DataSeconds), Median(r => r.ForwardSeconds), Median(r => r.BackwardSeconds), Median(r => r.OptimizerSeconds),
            Median(r => r.OptimizerSeconds / r.TotalSeconds));
    }
}
