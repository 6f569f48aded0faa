using Generalist.Torch;
using Spectre.Console;

namespace Generalist.Cli.Commands.Bench;

/// <summary>`generalist bench --train --preset small`: matmul peak per dtype, training tokens/s, MFU, bf16 speed-up, optimizer share.</summary>
public sealed class TrainBenchmark : IBenchmark
{
    public string Flag => "train";
    public string Description => "Training step: matmul peak per dtype, tokens/s and MFU in fp32 and bf16, bf16 speed-up, optimizer share.";

    public Task<object> RunAsync(BenchOptions options, CancellationToken cancellationToken)
    {
        TorchRuntime.EnsureLoaded();
        var result = TrainingBenchmark.Run(new TrainingBenchmarkOptions(options.Preset, options.Device, options.Repeats),
            options.Json ? null : m => Console.Error.WriteLine(m));
        if (!options.Json)
        {
            var table = new Table().AddColumn("measure").AddColumn("fp32").AddColumn("bf16");
            table.AddRow("matmul peak (GFLOP/s)", G(result.Fp32.PeakFlops), G(result.Bf16.PeakFlops));
            table.AddRow("tokens/s", $"{result.Fp32.TokensPerSecond:F0}", $"{result.Bf16.TokensPerSecond:F0}");
            table.AddRow("MFU", $"{result.Fp32.Mfu:P1}", $"{result.Bf16.Mfu:P1}");
            table.AddRow("step (s)", $"{result.Fp32.StepSeconds:F3}", $"{result.Bf16.StepSeconds:F3}");
            table.AddRow("data / fwd / bwd / opt (s)", Split(result.Fp32), Split(result.Bf16));
            table.AddRow("optimizer share", $"{result.Fp32.OptimizerShare:P1}", $"{result.Bf16.OptimizerShare:P1}");
            Generalist.Cli.Output.CliTable.Write(table);
            Console.WriteLine($"preset {result.Preset}, batch {result.BatchSize} x {result.ContextLength}, {result.Threads} threads, fused AdamW: {result.FusedAdamW}, medians of {result.Repeats}");
            Console.WriteLine($"bf16 speed-up {result.Bf16Speedup:F2}x (target >= 2x: {Mark(result.MeetsBf16SpeedupTarget)}); fp32 MFU target >= 70%: {Mark(result.MeetsFp32MfuTarget)}; optimizer <= 5%: {Mark(result.MeetsOptimizerShareTarget)}");
        }
        return Task.FromResult<object>(result);
    }

    private static string G(double flops) => $"{flops / 1e9:F1}";
    private static string Split(PrecisionFigures p) => $"{p.DataSeconds:F3} / {p.ForwardSeconds:F3} / {p.BackwardSeconds:F3} / {p.OptimizerSeconds:F3}";
    private static string Mark(bool ok) => ok ? "met" : "NOT met";
}
