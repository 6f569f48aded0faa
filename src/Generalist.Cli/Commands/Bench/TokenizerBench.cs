using Generalist.Datasets.Cache;
using Generalist.Datasets.Sets;
using Spectre.Console;

namespace Generalist.Cli.Commands.Bench;

/// <summary>`generalist bench --tokenizers`: single-core throughput of building and packing episodes, patches and text.</summary>
public sealed class TokenizerBench : IBenchmark
{
    public string Flag => "tokenizers";
    public string Description => "Tokenizer throughput on one core: control tokens/s, image patches/s, text MB/s (medians).";

    public async Task<object> RunAsync(BenchOptions options, CancellationToken cancellationToken)
    {
        var mobyDick = EnglishCorpus.MobyDick(new PackageCache(PackageCache.DefaultRoot()));
        var lines = (await File.ReadAllLinesAsync(mobyDick, cancellationToken)).Where(l => l.Length > 0).ToList();
        var result = await Task.Run(() => TokenizerBenchmark.Run(options.Repeats, lines, "Moby-Dick",
            options.Json ? null : m => AnsiConsole.MarkupLine($"[grey]{Markup.Escape(m)}[/]")), cancellationToken);
        if (!options.Json) WriteTable(result);
        return result;
    }

    private static void WriteTable(TokenizerBenchmarkResult r)
    {
        var table = new Table().AddColumn("workload").AddColumn("median").AddColumn("target");
        table.AddRow("control: build + pack", $"{r.ControlTokensPerSecond / 1e6:F1} M tokens/s", ">= 20 M tokens/s");
        table.AddRow("  build only", $"{r.ControlBuildTokensPerSecond / 1e6:F1} M tokens/s", "");
        table.AddRow("  pack only", $"{r.ControlPackTokensPerSecond / 1e6:F1} M tokens/s", "");
        table.AddRow("  MixtureLoader.Next (cache warm)", $"{r.LoaderTokensPerSecond / 1e6:F1} M tokens/s", "");
        table.AddRow("images 64x64 RGB, P = 16", $"{r.PatchesPerSecond / 1e6:F2} M patches/s", ">= 2 M patches/s");
        table.AddRow("images 28x28 gray, P = 4", $"{r.SmallPatchesPerSecond / 1e6:F2} M patches/s", "");
        table.AddRow("text (SentencePiece BPE)", $"{r.TextMegabytesPerSecond:F2} MB/s ({r.TextTokensPerSecond / 1e6:F2} M tokens/s)", ">= 5 MB/s");
        Generalist.Cli.Output.CliTable.Write(table);
        AnsiConsole.MarkupLine(Markup.Escape($"medians of {r.Repeats} repeats per second of {r.Clock}, {(r.PinnedToOneCore ? "pinned to one core" : "not pinned (unsupported here)")}; {r.ControlWorkload}; {r.ImageWorkload}; {r.TextWorkload}"));
    }
}
