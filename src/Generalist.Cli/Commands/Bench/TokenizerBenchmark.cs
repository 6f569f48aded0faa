using System.Diagnostics;
using System.Text;
using Generalist.Episodes;
using Generalist.Packing;
using Generalist.Tokenizers;

namespace Generalist.Cli.Commands.Bench;

/// <summary>Median throughputs of the tokenizers, each measured single-threaded (see tokenizers/README.md, "Performance").</summary>
public sealed record TokenizerBenchmarkResult(
    int Repeats,
    bool PinnedToOneCore,
    string Clock,
    double ControlTokensPerSecond,
    double ControlBuildTokensPerSecond,
    double ControlPackTokensPerSecond,
    double LoaderTokensPerSecond,
    double PatchesPerSecond,
    double SmallPatchesPerSecond,
    double TextMegabytesPerSecond,
    double TextTokensPerSecond,
    string ControlWorkload,
    string ImageWorkload,
    string SmallImageWorkload,
    string TextWorkload);

/// <summary>
/// The measuring code behind `generalist bench --tokenizers`. Workloads:
/// control: 512 CartPole-shaped episodes (4 continuous observation values, 1 discrete action,
/// 200 timesteps) built into sequences and packed whole into (32, 1024) batches;
/// loader: MixtureLoader.Next() on the same episodes (tokenized-episode cache warm, prompting on);
/// images: 64x64 RGB with P = 16 and 28x28 grayscale with P = 4, patchified into a reused buffer;
/// text: one pass over the given lines with a fresh tokenizer (empty word cache), MB of UTF-8 per second.
/// </summary>
public static class TokenizerBenchmark
{
    public static TokenizerBenchmarkResult Run(int repeats, IReadOnlyList<string> textLines, string textSource, Action<string>? progress = null)
    {
        if (repeats < 1) throw new ArgumentOutOfRangeException(nameof(repeats), repeats, "repeats must be at least 1");
        var pinned = TryPinToOneCore(out var restore);
        try
        {
            var vocab = VocabularyLayout.Default;
            var episodes = ControlEpisodes(512, 200, seed: 1);
            var builder = new SequenceBuilder(vocab, 1024, 16);

            // Warm-up (JIT, text model load), then the measured repeats.
            BuildAndPack(builder, episodes, vocab);
            var control = new List<(double All, double Build, double Pack)>();
            for (var r = 0; r < repeats; r++) { control.Add(BuildAndPack(builder, episodes, vocab)); progress?.Invoke($"control {r + 1}/{repeats}"); }

            var loader = new MixtureLoader([new TaskStream("control", 1, new InMemoryEpisodeSource("control", TaskFamily.Control, episodes))],
                new LoaderOptions(1024, 32, 16, LoaderOptions.DefaultPromptProbability, 7), vocab);
            for (var i = 0; i < 40; i++) loader.Next();
            var loaderRates = new List<double>();
            for (var r = 0; r < repeats; r++) { loaderRates.Add(Loader(loader, 30)); progress?.Invoke($"loader {r + 1}/{repeats}"); }

            var big = Images(256, 64, 64, 3, 2);
            var small = Images(1024, 28, 28, 1, 3);
            Patches(big, 16, 1);
            Patches(small, 4, 1);
            var bigRates = new List<double>();
            var smallRates = new List<double>();
            for (var r = 0; r < repeats; r++)
            {
                bigRates.Add(Patches(big, 16, 20));
                smallRates.Add(Patches(small, 4, 10));
                progress?.Invoke($"images {r + 1}/{repeats}");
            }

            // Each repeat is one pass over the text with a fresh tokenizer, so its word cache starts empty.
            Text(TextTokenizer.LoadDefault(), textLines.Take(200).ToList());
            var textRates = new List<(double Mb, double Tokens)>();
            for (var r = 0; r < repeats; r++) { textRates.Add(Text(TextTokenizer.LoadDefault(), textLines)); progress?.Invoke($"text {r + 1}/{repeats}"); }

            var textBytes = textLines.Sum(l => (long)Encoding.UTF8.GetByteCount(l));
            return new TokenizerBenchmarkResult(repeats, pinned,
                ThreadCpuClock.IsThreadCpuTime ? "thread CPU time" : "wall time",
                Median(control.Select(c => c.All)), Median(control.Select(c => c.Build)), Median(control.Select(c => c.Pack)),
                Median(loaderRates), Median(bigRates), Median(smallRates),
                Median(textRates.Select(t => t.Mb)), Median(textRates.Select(t => t.Tokens)),
                "512 episodes x 200 timesteps, 4 continuous obs + 1 discrete action (6 tokens/timestep), packed into 32 x 1024 batches",
                "256 RGB 64x64 images, P = 16 (16 patches of 768 values each)",
                "1024 grayscale 28x28 images, P = 4 (49 patches of 48 values each)",
                $"{textLines.Count} lines, {textBytes / 1e6:F2} MB UTF-8 of {textSource}, one pass per repeat, word cache starting empty");
        }
        finally
        {
            restore();
        }
    }

    public static List<Episode> ControlEpisodes(int count, int length, int seed)
    {
        var rng = new Random(seed);
        var list = new List<Episode>(count);
        for (var e = 0; e < count; e++)
        {
            var steps = new Timestep[length];
            for (var t = 0; t < length; t++)
                steps[t] = new Timestep(
                    new Observation(Continuous: [(float)(rng.NextDouble() * 4.8 - 2.4), (float)(rng.NextDouble() * 6 - 3), (float)(rng.NextDouble() * 0.4 - 0.2), (float)(rng.NextDouble() * 6 - 3)]),
                    ActionValue.OfDiscrete(rng.Next(2)), 1f);
            list.Add(new Episode("control", steps));
        }
        return list;
    }

    /// <summary>Builds every episode and packs all its units whole into batches; tokens per second.</summary>
    private static (double All, double Build, double Pack) BuildAndPack(SequenceBuilder builder, List<Episode> episodes, VocabularyLayout vocab)
    {
        const int batchSize = 32;
        var names = new[] { "control" };
        var seq = new TokenizedEpisode(builder.PatchSize, 0, 2048);
        long tokens = 0;
        double buildSeconds = 0, packSeconds = 0;
        var packer = new PackedBatchBuilder(batchSize, builder.ContextLength, builder.PatchSize, vocab, names);
        var row = 0;
        foreach (var episode in episodes)
        {
            var t0 = ThreadCpuClock.Now();
            builder.Build(episode, 0, seq);
            var t1 = ThreadCpuClock.Now();
            var unit = 0;
            while (unit < seq.UnitCount)
            {
                var fit = SequencePacker.UnitsFitting(seq, unit, packer.Remaining(row));
                if (fit == 0)
                {
                    if (++row == batchSize)
                    {
                        packer.Build();
                        packer = new PackedBatchBuilder(batchSize, builder.ContextLength, builder.PatchSize, vocab, names);
                        row = 0;
                    }
                    continue;
                }
                packer.TryAppend(row, seq, unit, fit);
                unit += fit;
            }
            packSeconds += ThreadCpuClock.Now() - t1;
            buildSeconds += t1 - t0;
            tokens += seq.Length;
        }
        var t2 = ThreadCpuClock.Now();
        packer.Build();
        packSeconds += ThreadCpuClock.Now() - t2;
        return (tokens / (buildSeconds + packSeconds), tokens / buildSeconds, tokens / packSeconds);
    }

    private static double Loader(MixtureLoader loader, int batches)
    {
        long tokens = 0;
        double seconds = 0;
        for (var i = 0; i < batches; i++)
        {
            var t0 = ThreadCpuClock.Now();
            var b = loader.Next();
            seconds += ThreadCpuClock.Now() - t0;
            for (var j = 0; j < b.TokenCount; j++) if (b.Tokens[j] != VocabularyLayout.Default.Pad || b.PatchIndex[j] >= 0) tokens++;
        }
        return tokens / seconds;
    }

    private static List<ImageData> Images(int count, int h, int w, int c, int seed)
    {
        var rng = new Random(seed);
        return Enumerable.Range(0, count).Select(_ =>
        {
            var pixels = new byte[h * w * c];
            rng.NextBytes(pixels);
            return new ImageData(h, w, c, pixels);
        }).ToList();
    }

    private static double Patches(List<ImageData> images, int patchSize, int passes)
    {
        var patcher = new ImagePatcher(patchSize);
        var buffer = new float[patcher.PatchCount(images[0]) * patcher.PatchLength];
        long patches = 0;
        var t0 = ThreadCpuClock.Now();
        for (var p = 0; p < passes; p++)
            foreach (var image in images)
            {
                patcher.Patchify(image, buffer);
                patches += patcher.PatchCount(image);
            }
        return patches / (ThreadCpuClock.Now() - t0);
    }

    private static (double Mb, double Tokens) Text(TextTokenizer text, IReadOnlyList<string> lines)
    {
        long bytes = 0, tokens = 0;
        foreach (var line in lines) bytes += Encoding.UTF8.GetByteCount(line);
        var t0 = ThreadCpuClock.Now();
        foreach (var line in lines) tokens += text.Encode(line).Length;
        var s = ThreadCpuClock.Now() - t0;
        return (bytes / 1e6 / s, tokens / s);
    }

    private static double Median(IEnumerable<double> values)
    {
        var sorted = values.Order().ToArray();
        return sorted.Length % 2 == 1 ? sorted[sorted.Length / 2] : (sorted[sorted.Length / 2 - 1] + sorted[sorted.Length / 2]) / 2;
    }

    /// <summary>Pins the process to one core (Linux/Windows) so the numbers are single-core ones.</summary>
    private static bool TryPinToOneCore(out Action restore)
    {
        restore = () => { };
        if (!(OperatingSystem.IsLinux() || OperatingSystem.IsWindows())) return false;
        try
        {
            var process = Process.GetCurrentProcess();
            var before = process.ProcessorAffinity;
            var lowest = (long)before & -(long)before;
            process.ProcessorAffinity = (nint)lowest;
            restore = () => { if (OperatingSystem.IsLinux() || OperatingSystem.IsWindows()) process.ProcessorAffinity = before; };
            return true;
        }
        catch (Exception e) when (e is InvalidOperationException or System.ComponentModel.Win32Exception or PlatformNotSupportedException)
        {
            return false;
        }
    }
}
