using System.Diagnostics;
using Generalist.Envs;
using Spectre.Console;
using Generalist.Episodes;

namespace Generalist.Cli.Commands.Bench;

/// <summary>
/// `generalist bench --envs`: batched stepping throughput of every environment on one core. A
/// VectorEnv of <see cref="Copies"/> copies is stepped on the calling thread with uniformly random
/// actions drawn before timing starts; finished copies are reset inside the timed loop (resets
/// count, as they do in rollouts). Each repeat runs for about <see cref="SecondsPerRepeat"/>;
/// the median steps/s over the repeats is reported.
/// </summary>
public sealed class EnvsBenchmark : IBenchmark
{
    public const int Copies = 64;
    public const double SecondsPerRepeat = 0.5;

    // Sokoban's levels come from the data area; throughput depends on the fixed-size rendered view,
    // not on the puzzle, so one small level written here stands in for them.
    private const string BenchLevel = "  #####\n###   #\n#.@$  #\n### $.#\n#.##$ #\n# # . ##\n#$ *$$.#\n#   .  #\n########";

    public string Flag => "envs";

    public string Description => "Batched stepping throughput per environment (steps/s, one core).";

    public Task<object> RunAsync(BenchOptions options, CancellationToken cancellationToken)
    {
        var results = new List<EnvThroughput>();
        var envOptions = new EnvOptions(SokobanLevels: () => [SokobanLevel.Parse(BenchLevel, "bench")]);
        foreach (var name in EnvRegistry.Names)
        {
            cancellationToken.ThrowIfCancellationRequested();
            using var vector = VectorEnv.Create(() => EnvRegistry.Create(name, envOptions), Copies);
            var actions = RandomActions(vector, 4096);
            Measure(vector, actions, 0.1, 0); // warm-up: JIT and first renders
            var rates = Enumerable.Range(0, options.Repeats).Select(r => Measure(vector, actions, SecondsPerRepeat, r + 1)).Order().ToArray();
            results.Add(new EnvThroughput(name, Copies, rates[rates.Length / 2], rates[0], rates[^1], options.Repeats));
        }
        if (!options.Json)
        {
            var table = new Table().AddColumn("env").AddColumn("copies").AddColumn("median steps/s").AddColumn("min").AddColumn("max");
            foreach (var r in results)
                table.AddRow(r.Env, r.Copies.ToString(), $"{r.MedianStepsPerSecond:N0}", $"{r.MinStepsPerSecond:N0}", $"{r.MaxStepsPerSecond:N0}");
            Generalist.Cli.Output.CliTable.Write(table);
            AnsiConsole.MarkupLine($"[grey]one thread, {Copies} copies per VectorEnv, median of {options.Repeats} repeats of ~{SecondsPerRepeat} s[/]");
        }
        return Task.FromResult<object>(results);
    }

    private static ActionValue[] RandomActions(VectorEnv vector, int count)
    {
        var policy = new RandomPolicy(12345);
        vector.Reset(0);
        return Enumerable.Range(0, count).Select(_ => policy.Act(new Observation(), vector[0])).ToArray();
    }

    private static double Measure(VectorEnv vector, ActionValue[] pool, double seconds, long seed)
    {
        vector.Reset(seed * 1_000_000);
        var batch = new ActionValue?[vector.Count];
        var steps = 0L;
        var next = 0;
        var resets = 0L;
        var clock = Stopwatch.StartNew();
        while (clock.Elapsed.TotalSeconds < seconds)
        {
            for (var k = 0; k < batch.Length; k++) batch[k] = pool[next++ & (pool.Length - 1)];
            var result = vector.Step(batch);
            steps += batch.Length;
            for (var k = 0; k < batch.Length; k++)
                if (result.Terminated[k] || result.Truncated[k]) vector.ResetAt(k, seed * 1_000_000 + Copies + resets++);
        }
        return steps / clock.Elapsed.TotalSeconds;
    }

    private sealed record EnvThroughput(string Env, int Copies, double MedianStepsPerSecond, double MinStepsPerSecond, double MaxStepsPerSecond, int Repeats);
}
