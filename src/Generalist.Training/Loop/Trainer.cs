using System.Reflection;
using Generalist.Model;
using Generalist.Training.Data;
using Generalist.RunFormat;

namespace Generalist.Training.Loop;

/// <summary>How a <see cref="Trainer"/> gets what the run config does not say (tests swap these).</summary>
public sealed record TrainerOptions
{
    /// <summary>Builds the run's data; null = the task catalog.</summary>
    public ITrainingDataFactory? Data { get; init; }
    /// <summary>A model shape to use instead of the config's preset (small test models).</summary>
    public ModelConfig? Model { get; init; }
    /// <summary>Deliberate faults for reliability tests.</summary>
    public FaultInjection Faults { get; init; } = FaultInjection.None;
    /// <summary>Human-readable notes (resume decisions, rejected checkpoints, rollbacks).</summary>
    public Action<string>? Log { get; init; }
    /// <summary>
    /// The job this process is a rank of; null = joined from the environment (mpirun/srun) with the
    /// run config's "distributed" section (a world of one without a launcher). Tests pass ranks
    /// simulated in one process; the caller then owns (disposes) it.
    /// </summary>
    public Generalist.Distributed.DistributedContext? Distributed { get; init; }
    /// <summary>The launching service's lease (<see cref="Ownership.ServiceLease"/>); null = not launched by a service.</summary>
    public Ownership.ServiceLease? Lease { get; init; }
}

/// <summary>
/// Runs one training job (ITrainer). The work happens in <see cref="RunSession"/> on a dedicated
/// thread: autocast state is per thread, and the loop is synchronous torch work.
/// </summary>
public sealed class Trainer(TrainerOptions? options = null) : ITrainer
{
    private readonly TrainerOptions _options = options ?? new();

    public static string CodeVersion { get; } =
        typeof(Trainer).Assembly.GetCustomAttribute<AssemblyInformationalVersionAttribute>()?.InformationalVersion ?? "unknown";

    public Task<TrainingResult> RunAsync(RunConfig config, string runDirectory, bool resume,
        IProgress<TrainingEvent>? progress, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(config);
        var errors = config.Validate();
        if (errors.Count > 0) throw new ConfigException(errors[0].Field, $"{errors[0].Field}: {errors[0].Message}");
        return Task.Factory.StartNew(() =>
        {
            using var session = RunSession.Create(config, runDirectory, _options, progress);
            return session.Run(resume, cancellationToken);
        }, CancellationToken.None, TaskCreationOptions.LongRunning, TaskScheduler.Default);
    }
}
