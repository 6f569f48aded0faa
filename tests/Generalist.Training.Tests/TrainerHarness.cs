using Generalist.Training.Loop;
using Generalist.RunFormat;

namespace Generalist.Training.Tests;

/// <summary>Runs the real Trainer on the micro model and synthetic tasks; collects its events.</summary>
internal static class TrainerHarness
{
    public static RunConfig Config(int steps, Func<RunConfig, RunConfig>? edit = null)
    {
        var config = new RunConfig
        {
            Name = "test",
            Tasks = [new("count"), new("repeat"), new("pixels")],
            Steps = steps,
            BatchSize = 4,
            Seed = 42,
            Threads = 1,
            PeakFlops = 1e11, // MFU needs a denominator; measuring it would slow every test
            Optimizer = new OptimizerConfig { LearningRate = 3e-3, WarmupSteps = 5 },
            Checkpoint = new CheckpointConfig { Every = 5, KeepLast = 3 },
            HeldOut = new HeldOutConfig { Every = 10, Batches = 1 },
        };
        return edit is null ? config : edit(config);
    }

    public sealed class Events : IProgress<TrainingEvent>
    {
        public List<TrainingEvent> All { get; } = [];
        public Action<TrainingEvent>? OnEvent { get; init; }

        public void Report(TrainingEvent value)
        {
            All.Add(value);
            OnEvent?.Invoke(value);
        }

        public List<StepCompleted> Steps => All.OfType<StepCompleted>().ToList();
    }

    public static (TrainingResult Result, Events Events, List<string> Log) Run(RunConfig config, string dir, bool resume = false,
        FaultInjection? faults = null, SyntheticData? data = null, CancellationToken ct = default, Action<TrainingEvent>? onEvent = null)
    {
        var log = new List<string>();
        var events = new Events { OnEvent = onEvent };
        var trainer = new Trainer(new TrainerOptions
        {
            Data = data ?? new SyntheticData(),
            Model = SyntheticData.MicroModel,
            Faults = faults ?? FaultInjection.None,
            Log = log.Add,
        });
        var result = trainer.RunAsync(config, dir, resume, events, ct).GetAwaiter().GetResult();
        return (result, events, log);
    }
}
