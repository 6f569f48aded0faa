using System.Diagnostics;
using System.Reflection;
using System.Text.Json;
using Generalist.Cli.Commands.Distributed;
using Generalist.Distributed;
using Generalist.Torch;
using Spectre.Console;
using static TorchSharp.torch;

namespace Generalist.Cli.Commands.Bench;

/// <summary>
/// `generalist bench --distributed`: data-parallel scaling on this machine. It launches
/// `mpirun -np N generalist distributed probe` for N = 1 and 2 (one thread per rank, the same
/// per-rank batch, so 2 ranks do twice the work per step), then each aggregation rule on 2 ranks,
/// and times each robust rule's arithmetic on gathered gradients of 4 and 8 simulated ranks.
/// Medians over --repeats launches; every launch reports the median of its own timed steps.
/// </summary>
public sealed class DistributedBenchmark : IBenchmark
{
    public const int PerRankBatch = 4;
    public const int ContextLength = 128;
    public const int Steps = 8;
    public const int Warmup = 2;

    public string Flag => "distributed";
    public string Description => "Data-parallel steps/s on 1 and 2 ranks (mpirun), gradient all-reduce time, robust rule overhead.";

    public sealed record ScalingRow(int Ranks, double StepsPerSecond, double TokensPerSecond, double TokenSpeedup, double SyncMilliseconds, double WaitMilliseconds, double SyncFraction);
    public sealed record RuleRow(string Rule, int Ranks, double StepMilliseconds, double SyncMilliseconds, double CommunicationMilliseconds, double AggregationMilliseconds, double SyncOverMean);
    public sealed record RuleComputeRow(string Rule, int World, long Elements, double Milliseconds);
    public sealed record Result(string Preset, long Parameters, int PerRankBatch, int ContextLength, int Repeats,
        IReadOnlyList<ScalingRow> Scaling, IReadOnlyList<RuleRow> Rules, IReadOnlyList<RuleComputeRow> RuleCompute);

    public async Task<object> RunAsync(BenchOptions options, CancellationToken cancellationToken)
    {
        if (ComputeSettings.ParseDevice(options.Device) != ComputeDevice.Cpu) throw new CliInputException("--distributed measures CPU ranks through Open MPI; use --device cpu (NCCL runs need a CUDA machine)");
        TorchRuntime.EnsureLoaded(); // the rule timings below run torch in this process
        var probes = new Dictionary<(int Ranks, string Rule), List<ProbeResult>>();
        async Task Launch(int ranks, string rule, int repeats)
        {
            for (var r = 0; r < repeats; r++)
            {
                cancellationToken.ThrowIfCancellationRequested();
                var result = await RunProbeAsync(ranks, rule, options.Preset, cancellationToken);
                if (!probes.TryGetValue((ranks, rule), out var list)) probes[(ranks, rule)] = list = [];
                list.Add(result);
            }
        }
        foreach (var ranks in new[] { 1, 2 }) await Launch(ranks, DistributedConfig.Mean, options.Repeats);
        var ruleRepeats = Math.Min(options.Repeats, 3);
        foreach (var rule in DistributedConfig.AggregationRules.Where(r => r != DistributedConfig.Mean)) await Launch(2, rule, ruleRepeats);

        double Med(IEnumerable<double> v) => DataParallelProbe.Median(v.ToList());
        var one = probes[(1, DistributedConfig.Mean)];
        var baseTokens = Med(one.Select(p => p.GlobalTokensPerSecond));
        var scaling = new[] { 1, 2 }.Select(n =>
        {
            var p = probes[(n, DistributedConfig.Mean)];
            var tokens = Med(p.Select(x => x.GlobalTokensPerSecond));
            return new ScalingRow(n, Med(p.Select(x => x.StepsPerSecond)), tokens, tokens / baseTokens,
                Med(p.Select(x => x.SyncSecondsMedian)) * 1000, Med(p.Select(x => x.WaitSecondsMedian)) * 1000, Med(p.Select(x => x.SyncFraction)));
        }).ToList();
        var meanSync = scaling[1].SyncMilliseconds;
        var rules = DistributedConfig.AggregationRules.Select(rule =>
        {
            var p = probes[(2, rule)];
            var sync = Med(p.Select(x => x.SyncSecondsMedian)) * 1000;
            return new RuleRow(rule, 2, Med(p.Select(x => x.StepSecondsMedian)) * 1000, sync, Med(p.Select(x => x.CommunicationSecondsMedian)) * 1000,
                Med(p.Select(x => x.AggregationSecondsMedian)) * 1000, sync / meanSync);
        }).ToList();
        var parameters = one[0].Parameters;
        var compute = RuleCompute(parameters, options.Repeats);
        var result = new Result(options.Preset, parameters, PerRankBatch, ContextLength, options.Repeats, scaling, rules, compute);
        if (!options.Json) Print(result);
        return result;
    }

    /// <summary>Each rule's arithmetic alone, on (W, N) gathered gradients, one thread.</summary>
    private static List<RuleComputeRow> RuleCompute(long elements, int repeats)
    {
        set_num_threads(1);
        var rows = new List<RuleComputeRow>();
        foreach (var world in new[] { 4, 8 })
        {
            using var gathered = randn([world, elements]);
            var config = new DistributedConfig();
            foreach (var rule in DistributedConfig.AggregationRules)
            {
                var aggregator = GradientAggregators.FromConfig(config with { Aggregation = rule });
                using (NewDisposeScope()) aggregator.Aggregate(gathered); // warm-up (and CC's history)
                var times = new List<double>();
                for (var r = 0; r < repeats; r++)
                {
                    using var scope = NewDisposeScope();
                    var t = Stopwatch.GetTimestamp();
                    aggregator.Aggregate(gathered);
                    times.Add(Stopwatch.GetElapsedTime(t).TotalMilliseconds);
                }
                (aggregator as IDisposable)?.Dispose();
                rows.Add(new RuleComputeRow(rule, world, elements, DataParallelProbe.Median(times)));
            }
        }
        return rows;
    }

    private static async Task<ProbeResult> RunProbeAsync(int ranks, string rule, string preset, CancellationToken ct)
    {
        var self = SelfCommand();
        var command = self.Concat(["distributed", "probe", "--json", "--preset", preset, "--batch", PerRankBatch.ToString(),
            "--context", ContextLength.ToString(), "--steps", Steps.ToString(), "--warmup", Warmup.ToString(), "--threads", "1",
            "--aggregation", rule]).ToList();
        var argv = MpiLauncher.Render("mpirun -np {ranks} --oversubscribe -x TERM=dumb {command}", ranks, command);
        var start = new ProcessStartInfo(argv[0]) { RedirectStandardOutput = true, RedirectStandardError = true, UseShellExecute = false };
        foreach (var a in argv.Skip(1)) start.ArgumentList.Add(a);
        Process process;
        try
        {
            process = Process.Start(start)!;
        }
        catch (System.ComponentModel.Win32Exception e)
        {
            throw new CliInputException($"could not start {argv[0]} ({e.Message}): install Open MPI (apt-get install openmpi-bin libopenmpi-dev)");
        }
        using (process)
        {
            var stdout = process.StandardOutput.ReadToEndAsync(ct);
            var stderr = process.StandardError.ReadToEndAsync(ct);
            await process.WaitForExitAsync(ct);
            var text = await stdout;
            if (process.ExitCode != 0)
                throw new InvalidOperationException($"mpirun -np {ranks} probe ({rule}) failed with exit code {process.ExitCode}: {(await stderr).Trim()}");
            var json = text[text.IndexOf('{')..];
            return JsonSerializer.Deserialize<ProbeResult>(json, CliApp.Json)
                   ?? throw new InvalidOperationException($"the probe printed no result: {text}");
        }
    }

    /// <summary>How to start this same program again: the apphost, or dotnet plus the entry assembly.</summary>
    private static string[] SelfCommand()
    {
        var path = Environment.ProcessPath ?? "dotnet";
        return Path.GetFileNameWithoutExtension(path) == "dotnet"
            ? [path, Assembly.GetEntryAssembly()!.Location]
            : [path];
    }

    private static void Print(Result r)
    {
        AnsiConsole.MarkupLine($"[bold]{r.Preset}[/] ({r.Parameters:N0} parameters), batch {r.PerRankBatch}x{r.ContextLength} per rank, 1 thread per rank, medians of {r.Repeats} launches");
        var scaling = new Table().AddColumn("ranks").AddColumn("steps/s").AddColumn("tokens/s").AddColumn("speed-up").AddColumn("grad sync ms/step").AddColumn("wait for slowest ms").AddColumn("sync share");
        foreach (var s in r.Scaling)
            scaling.AddRow(s.Ranks.ToString(), $"{s.StepsPerSecond:F2}", $"{s.TokensPerSecond:F0}", $"{s.TokenSpeedup:F2}x", $"{s.SyncMilliseconds:F1}", $"{s.WaitMilliseconds:F1}", $"{s.SyncFraction:P1}");
        Generalist.Cli.Output.CliTable.Write(scaling);
        var rules = new Table().AddColumn("rule (2 ranks)").AddColumn("step ms").AddColumn("sync ms").AddColumn("of which comm").AddColumn("of which rule").AddColumn("sync vs mean");
        foreach (var x in r.Rules)
            rules.AddRow(x.Rule, $"{x.StepMilliseconds:F1}", $"{x.SyncMilliseconds:F1}", $"{x.CommunicationMilliseconds:F1}", $"{x.AggregationMilliseconds:F1}", $"{x.SyncOverMean:F2}x");
        Generalist.Cli.Output.CliTable.Write(rules);
        var compute = new Table().AddColumn("rule arithmetic").AddColumn("world").AddColumn("ms per step");
        foreach (var c in r.RuleCompute) compute.AddRow(c.Rule, c.World.ToString(), $"{c.Milliseconds:F1}");
        Generalist.Cli.Output.CliTable.Write(compute);
    }
}
