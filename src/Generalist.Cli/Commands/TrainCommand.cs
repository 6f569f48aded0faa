using System.CommandLine;
using System.Runtime.InteropServices;
using Generalist.Cli.Output;
using Generalist.Model;
using Generalist.Training;
using Generalist.Training.Loop;
using Generalist.Torch;
using Spectre.Console;
using Generalist.RunFormat;

namespace Generalist.Cli.Commands;

/// <summary>
/// `generalist train`: one training run in this process, from a JSON run config or from flags.
/// SIGTERM or Ctrl-C stop it at the next step boundary with a checkpoint (exit 0, outcome
/// "cancelled"); `--resume` continues exactly from the newest valid checkpoint in --out.
/// </summary>
public static class TrainCommand
{
    public static Command Create()
    {
        var json = CliApp.JsonOption();
        var config = new Option<FileInfo?>("--config") { Description = "Run config (JSON, comments allowed); `generalist config show > run.json` writes one with every field, its default and range. Flags override it." };
        var name = new Option<string?>("--name") { Description = $"Run name; the run goes to checkpoints/<name> (sets name). {RunNames.Rule}." };
        var output = new Option<DirectoryInfo?>("--out") { Description = "Run directory (metrics.jsonl, checkpoints/). Default: checkpoints/<name>." };
        var resume = new Option<bool>("--resume") { Description = "Continue from the newest valid checkpoint in the run directory." };
        var preset = new Option<string?>("--preset") { Description = $"Model preset: {string.Join(", ", ModelPresets.Names)} (`generalist models` shows their sizes)." };
        var tasks = new Option<string?>("--tasks") { Description = $"Task mixture, {TaskList.Syntax}. Tasks: {TaskList.Known}." };
        var steps = new Option<int?>("--steps") { Description = "Optimizer steps, 1-10000000." };
        var precision = new Option<string?>("--precision") { Description = "fp32 or bf16." };
        var batchSize = new Option<int?>("--batch-size") { Description = "Sequences per micro-batch, 1-4096." };
        var seed = new Option<long?>("--seed") { Description = "Seed of model init and data order." };
        var initFrom = new Option<string?>("--init-from")
        {
            Description = "Start from this checkpoint's model weights (a step-N directory or a run directory: its newest checkpoint); fresh optimizer, step 0 (fine-tuning). Sets init_from.",
        };
        var command = new Command("train",
            "Train the generalist model on a task mixture; checkpoints and metrics.jsonl go to checkpoints/<name> (or --out).\n" +
            "Every config field with its default and allowed range: `generalist config show [--preset P] [--tasks T]`; check a file with `generalist config check FILE`.")
        {
            config, name, output, resume, preset, tasks, steps, precision, batchSize, seed, initFrom, json,
        };

        command.SetAction(parse =>
        {
            var run = BuildConfig(parse.GetValue(config), parse.GetValue(preset), parse.GetValue(tasks), parse.GetValue(steps),
                parse.GetValue(precision), parse.GetValue(batchSize), parse.GetValue(seed), parse.GetValue(initFrom), parse.GetValue(name));
            var dir = parse.GetValue(output)?.FullName ?? Path.Combine("checkpoints", run.Name);
            RequireDirectoryPath(dir, parse.GetValue(output) is null ? "name" : "--out");
            TorchRuntime.EnsureLoaded();
            var result = Execute(run, dir, parse.GetValue(resume), parse.GetValue(json));
            if (parse.GetValue(json))
                CliApp.WriteJson(new TrainOutput(result.Outcome.ToString().ToLowerInvariant(), result.FinalStep, result.LastCheckpoint,
                    result.FailureReason, Path.GetFullPath(dir)));
            else
            {
                Console.Error.WriteLine($"{result.Outcome.ToString().ToLowerInvariant()} at step {result.FinalStep}; last checkpoint: {result.LastCheckpoint ?? "none"}");
                if (result.FailureReason is { } why) Console.Error.WriteLine($"error: {why}");
            }
            return result.Outcome == TrainingOutcome.Failed ? ExitCodes.Failed : ExitCodes.Ok;
        });
        return command;
    }

    /// <summary>The config file (when given) with the flags laid over it; validated here so errors name the flag's field.</summary>
    internal static RunConfig BuildConfig(FileInfo? file, string? preset, string? tasks, int? steps, string? precision, int? batchSize, long? seed,
        string? initFrom = null, string? name = null)
    {
        var run = new RunConfigOverrides
        {
            Name = name,
            Preset = preset,
            Tasks = tasks is null ? null : TaskList.Parse(tasks),
            Steps = steps,
            Precision = precision,
            BatchSize = batchSize,
            Seed = seed,
            // An absolute path: the run's trainer_state.json then names its origin wherever it is read.
            InitFrom = initFrom is null ? null : initFrom.Trim().Length == 0 ? initFrom : Path.GetFullPath(initFrom),
        }.ApplyTo(file is null ? new RunConfig() : RunConfig.Load(file.FullName));
        var errors = run.ValidateForTraining();
        if (errors.Count > 0) throw new ConfigException(errors[0].Field, $"{errors[0].Field}: {errors[0].Message}");
        return run;
    }

    /// <summary>The run directory, or the nearest part of its path that exists, must be a directory (not a file).</summary>
    private static void RequireDirectoryPath(string dir, string option)
    {
        for (var p = Path.GetFullPath(dir); p is not null; p = Path.GetDirectoryName(p))
        {
            if (Directory.Exists(p)) return;
            if (File.Exists(p))
                throw new CliInputException(p == Path.GetFullPath(dir)
                    ? $"{option}: {p} is a file; the run directory must be a directory (new or a run's)"
                    : $"{option}: {p} is a file, so the run directory {Path.GetFullPath(dir)} cannot be created under it");
        }
    }

    private static TrainingResult Execute(RunConfig run, string dir, bool resume, bool json)
    {
        using var stop = new CancellationTokenSource();
        // Handle SIGTERM and SIGINT ourselves: cancel = finish the current step, checkpoint, exit cleanly.
        void OnSignal(PosixSignalContext context)
        {
            context.Cancel = true;
            if (!stop.IsCancellationRequested) Console.Error.WriteLine($"{context.Signal}: stopping at the next step boundary and writing a checkpoint");
            stop.Cancel();
        }
        using var term = PosixSignalRegistration.Create(PosixSignal.SIGTERM, OnSignal);
        using var interrupt = PosixSignalRegistration.Create(PosixSignal.SIGINT, OnSignal);

        // Faults: none unless the crash-test hook's environment variables are set (CheckpointPauseHook).
        // A service that launched this process gives it a lease; without one (run by hand) there is none.
        var trainer = new Trainer(new TrainerOptions
        {
            Log = m => Console.Error.WriteLine(m),
            Faults = CheckpointPauseHook.FromEnvironment(),
            Lease = Generalist.Training.Ownership.ServiceLease.FromEnvironment(),
        });
        var interactive = !json && !Console.IsErrorRedirected && !Console.IsOutputRedirected && AnsiConsole.Profile.Capabilities.Interactive;
        if (!interactive)
        {
            var every = Math.Max(1, run.Steps / 50);
            var progress = new SyncProgress(e =>
            {
                if (json) return;
                if (e is StepCompleted s && (s.Step % every == 0 || s.Step == s.TotalSteps))
                    Console.Error.WriteLine($"step {s.Step}/{s.TotalSteps} loss {Numbers.Loss(s.Loss)} lr {Numbers.LearningRate(s.LearningRate)} grad_norm {Numbers.GradNorm(s.GradNorm)} tok/s {Numbers.PerSecond(s.TokensPerSecond)} mfu {Numbers.Percent(s.Mfu)}{(s.Skipped ? " (skipped)" : "")}");
                else if (e is HeldOutEvaluated h)
                    Console.Error.WriteLine($"held-out loss at step {h.Step}: {string.Join(", ", h.TaskLoss.Select(kv => $"{kv.Key} {Numbers.Loss(kv.Value)}"))}");
            });
            return trainer.RunAsync(run, dir, resume, progress, stop.Token).GetAwaiter().GetResult();
        }

        TrainingResult? result = null;
        AnsiConsole.Progress()
            .Columns(new TaskDescriptionColumn(), new ProgressBarColumn(), new PercentageColumn(), new RemainingTimeColumn())
            .Start(ctx =>
            {
                var bar = ctx.AddTask($"training {Markup.Escape(run.Name)}", maxValue: run.Steps);
                var progress = new SyncProgress(e =>
                {
                    if (e is not StepCompleted s) return;
                    bar.Value = s.Step;
                    bar.Description = Markup.Escape($"step {s.Step} loss {Numbers.Loss(s.Loss)} lr {Numbers.LearningRate(s.LearningRate)} {Numbers.PerSecond(s.TokensPerSecond)} tok/s mfu {Numbers.Percent(s.Mfu)}");
                });
                result = trainer.RunAsync(run, dir, resume, progress, stop.Token).GetAwaiter().GetResult();
            });
        return result!;
    }

    /// <summary>The --json result: outcome is "completed", "cancelled" or "failed".</summary>
    private sealed record TrainOutput(string Outcome, long FinalStep, string? LastCheckpoint, string? FailureReason, string RunDirectory);

    /// <summary>Reports on the training thread (Progress&lt;T&gt; would post to the thread pool and reorder lines).</summary>
    private sealed class SyncProgress(Action<TrainingEvent> onEvent) : IProgress<TrainingEvent>
    {
        public void Report(TrainingEvent value) => onEvent(value);
    }
}
