using System.CommandLine;
using Generalist.Cli.Commands.Distributed;
using Generalist.Distributed;
using Generalist.Torch;
using Spectre.Console;

namespace Generalist.Cli.Commands;

/// <summary>
/// `generalist distributed env|probe`: what a process sees of its MPI job, and a data-parallel probe
/// of the real model to run under mpirun/srun (it checks the collectives and times steps and
/// gradient synchronisation; `generalist bench --distributed` drives it).
/// </summary>
public static class DistributedCommand
{
    public static Command Create()
    {
        var command = new Command("distributed", "Data-parallel tools: the MPI environment and a probe to run under mpirun or srun.");
        command.Subcommands.Add(Env());
        command.Subcommands.Add(Probe());
        return command;
    }

    private static Command Env()
    {
        var json = CliApp.JsonOption();
        var command = new Command("env", "Show this process's rank, world size and launcher as read from the environment.") { json };
        command.SetAction(parse =>
        {
            var env = MpiEnvironment.FromEnvironment();
            if (parse.GetValue(json)) CliApp.WriteJson(env);
            else Console.Out.WriteLine($"rank {env.Rank} of {env.WorldSize} (local rank {env.LocalRank} of {env.LocalSize}), launcher: {env.Launcher}");
            return ExitCodes.Ok;
        });
        return command;
    }

    private static Command Probe()
    {
        var json = CliApp.JsonOption();
        var preset = new Option<string>("--preset") { Description = "Model preset.", DefaultValueFactory = _ => "tiny" };
        var batch = new Option<int>("--batch") { Description = "Sequences per rank per step.", DefaultValueFactory = _ => 4 };
        var context = new Option<int>("--context") { Description = "Tokens per sequence.", DefaultValueFactory = _ => 128 };
        var steps = new Option<int>("--steps") { Description = "Timed steps.", DefaultValueFactory = _ => 10 };
        var warmup = new Option<int>("--warmup") { Description = "Untimed steps first.", DefaultValueFactory = _ => 2 };
        var threads = new Option<int>("--threads") { Description = "Intra-op threads per rank (set explicitly: under mpirun libtorch drops to 1).", DefaultValueFactory = _ => 1 };
        var aggregation = new Option<string>("--aggregation") { Description = "mean, trimmed_mean, median or centered_clip.", DefaultValueFactory = _ => DistributedConfig.Mean };
        var timeout = new Option<double>("--timeout") { Description = "Seconds a collective may take before the job is stopped.", DefaultValueFactory = _ => 120 };
        var bucket = new Option<double>("--bucket-mb") { Description = "Gradient bucket size in MB.", DefaultValueFactory = _ => 25 };
        var command = new Command("probe", "Time data-parallel training steps of the model on random tokens (run it under mpirun -np N).")
            { json, preset, batch, context, steps, warmup, threads, aggregation, timeout, bucket };
        command.SetAction(parse =>
        {
            var config = new DistributedConfig
            {
                Aggregation = parse.GetValue(aggregation)!, TimeoutSeconds = parse.GetValue(timeout), BucketMb = parse.GetValue(bucket),
            };
            foreach (var (field, message) in config.Validate())
                throw new CliInputException($"--{field["distributed.".Length..].Replace('_', '-')}: {message}");
            Range("--batch", parse.GetValue(batch), 1, 4096);
            Range("--context", parse.GetValue(context), 4, 65536);
            Range("--steps", parse.GetValue(steps), 1, 100_000);
            Range("--warmup", parse.GetValue(warmup), 0, 100_000);
            Range("--threads", parse.GetValue(threads), 1, 1024);
            var options = new ProbeOptions(parse.GetValue(preset)!, parse.GetValue(batch), parse.GetValue(context), parse.GetValue(steps),
                parse.GetValue(warmup), parse.GetValue(threads), config, Seed: 1);
            TorchRuntime.EnsureLoaded();
            try
            {
                using var distributed = DistributedContext.Create(config, ComputeDevice.Cpu, runDirectory: null);
                var result = DataParallelProbe.Run(distributed, options);
                distributed.Communicator.Barrier();
                if (!distributed.IsRoot) return ExitCodes.Ok;
                if (parse.GetValue(json)) CliApp.WriteJson(result);
                else AnsiConsole.MarkupLine(Markup.Escape(
                    $"{result.WorldSize} rank(s), {result.Preset} ({result.Parameters:N0} parameters, {result.Buckets} bucket(s)), batch {result.PerRankBatch}x{result.ContextLength} per rank: " +
                    $"{result.StepsPerSecond:F2} steps/s, {result.GlobalTokensPerSecond:F0} tokens/s, gradient sync {result.SyncSecondsMedian * 1000:F1} ms/step ({result.SyncFraction:P1}), waiting for the slowest rank {result.WaitSecondsMedian * 1000:F1} ms/step"));
                return ExitCodes.Ok;
            }
            catch (DistributedException e)
            {
                Console.Error.WriteLine($"error: {e.Message}");
                return ExitCodes.Failed;
            }
        });
        return command;
    }

    private static void Range(string name, int value, int min, int max)
    {
        if (value < min || value > max) throw new CliInputException($"{name} must be in [{min}, {max}] (got {value})");
    }
}
