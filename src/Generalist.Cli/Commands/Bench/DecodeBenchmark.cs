using System.Diagnostics;
using System.Globalization;
using Generalist.Model;
using Generalist.Tokenizers;
using Generalist.Torch;
using Spectre.Console;
using TorchSharp;
using static TorchSharp.torch;

namespace Generalist.Cli.Commands.Bench;

/// <summary>
/// `generalist bench --decode`: tokens/s of incremental decoding with the KV cache against
/// recomputing the whole sequence for every new token (what a rollout would do without a cache),
/// same model, same tokens, same run. Reports medians over repeats and the speed-up ratio.
/// </summary>
public sealed class DecodeBenchmark : IBenchmark
{
    private const int Sequences = 8;

    public string Flag => "decode";
    public string Description => "KV-cache decoding tokens/s against full recomputation per token (uses --preset, --device).";

    public sealed record Result(string Preset, string Device, int Sequences, int PromptLength, int DecodedTokens, int Repeats,
        double CachedTokensPerSecond, double RecomputeTokensPerSecond, double SpeedUp, double MaxLogitDifference);

    public Task<object> RunAsync(BenchOptions options, CancellationToken cancellationToken)
    {
        TorchRuntime.EnsureLoaded();
        var config = ModelPresets.Get(options.Preset);
        var device = ComputeSettings.ParseDevice(options.Device) == ComputeDevice.Cuda
            ? (cuda.is_available() ? CUDA : throw new CliInputException("--device cuda: no CUDA device is available to libtorch"))
            : CPU;
        var prompt = config.ContextLength / 4;
        var steps = Math.Min(64, config.ContextLength - prompt);
        using var model = new GeneralistModel(config).to(device);
        model.eval();
        var random = new Random(7);
        var ids = new long[Sequences * (prompt + steps)];
        for (var i = 0; i < ids.Length; i++) ids[i] = random.Next(VocabularyLayout.Default.TextVocabSize);
        using var tokens = tensor(ids, [Sequences, prompt + steps], ScalarType.Int64, device);
        using var positions = zeros([Sequences, prompt + steps], ScalarType.Int64, device);

        var cached = new List<double>();
        var recomputed = new List<double>();
        var difference = 0.0;
        for (var r = 0; r < options.Repeats + 1; r++) // the first round warms up and is not counted
        {
            cancellationToken.ThrowIfCancellationRequested();
            using var scope = NewDisposeScope();
            var (cachedSeconds, cachedLast) = Timed(() => DecodeWithCache(model, tokens, positions, prompt, steps));
            var (fullSeconds, fullLast) = Timed(() => DecodeByRecomputing(model, tokens, positions, prompt, steps));
            difference = Math.Max(difference, (cachedLast - fullLast).abs().max().item<float>());
            if (r == 0) continue;
            cached.Add(Sequences * steps / cachedSeconds);
            recomputed.Add(Sequences * steps / fullSeconds);
        }
        var result = new Result(options.Preset, options.Device, Sequences, prompt, steps, options.Repeats,
            Median(cached), Median(recomputed), Median(cached) / Median(recomputed), difference);
        if (!options.Json)
        {
            var table = new Table().AddColumns("decoding", "tokens/s (median)");
            table.AddRow("KV cache", Format(result.CachedTokensPerSecond));
            table.AddRow("recompute every step", Format(result.RecomputeTokensPerSecond));
            table.AddRow("speed-up", result.SpeedUp.ToString("0.00x", CultureInfo.InvariantCulture));
            Generalist.Cli.Output.CliTable.Write(table);
            Console.WriteLine($"{options.Preset} on {options.Device}: {Sequences} sequences, prompt {prompt}, {steps} decoded tokens, " +
                $"{options.Repeats} repeats; max |logit difference| {difference:G3}");
        }
        return Task.FromResult<object>(result);
    }

    // Both loops free each step's temporaries in its own dispose scope and keep only the last logits.
    private static Tensor DecodeWithCache(GeneralistModel model, Tensor tokens, Tensor positions, int prompt, int steps)
    {
        using var promptInputs = Inputs(tokens, positions, 0, prompt);
        var (logits, cache) = model.Prefill(promptInputs);
        using (cache)
        {
            for (var s = 0; s < steps; s++)
            {
                using var step = NewDisposeScope();
                logits = model.DecodeStep(tokens.select(1, prompt + s), positions.select(1, prompt + s), cache).MoveToOuterDisposeScope();
            }
        }
        return logits;
    }

    /// <summary>The baseline without a cache: every step re-runs the whole sequence so far (the
    /// head only on its last position, as a rollout would).</summary>
    private static Tensor DecodeByRecomputing(GeneralistModel model, Tensor tokens, Tensor positions, int prompt, int steps)
    {
        Tensor logits = null!;
        for (var s = 0; s < steps; s++)
        {
            using var step = NewDisposeScope();
            using var inputs = Inputs(tokens, positions, 0, prompt + s + 1);
            using var fresh = model.CreateCache(Sequences);
            logits = model.Extend(inputs, fresh).MoveToOuterDisposeScope();
        }
        return logits;
    }

    private static ModelInputs Inputs(Tensor tokens, Tensor positions, int from, int length)
    {
        var device = tokens.device;
        return new ModelInputs(Sequences, length, 0, tokens.narrow(1, from, length), positions.narrow(1, from, length),
            empty([0], ScalarType.Int64, device), empty([0, 1], ScalarType.Float32, device),
            empty([0], ScalarType.Int64, device), empty([0], ScalarType.Int64, device));
    }

    private static (double Seconds, Tensor Last) Timed(Func<Tensor> run)
    {
        var watch = Stopwatch.StartNew();
        var last = run();
        _ = last.sum().item<float>(); // waits for the device
        return (watch.Elapsed.TotalSeconds, last);
    }

    private static double Median(List<double> values)
    {
        var sorted = values.Order().ToArray();
        return sorted.Length % 2 == 1 ? sorted[sorted.Length / 2] : (sorted[sorted.Length / 2 - 1] + sorted[sorted.Length / 2]) / 2;
    }

    private static string Format(double value) => value.ToString("0.0", CultureInfo.InvariantCulture);
}
