using Generalist.Evaluation;
using Generalist.Studies;
using Generalist.Training;
using Generalist.Training.Loop;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.DependencyInjection.Extensions;

namespace Generalist.Service.Hosting;

/// <summary>
/// THE single place where the real trainer, evaluator and study runner are registered.
/// Tests replace them with their own doubles after this runs.
/// </summary>
public static class ProductionWorkers
{
    public static IServiceCollection AddGeneralistWorkers(this IServiceCollection services)
    {
        // No faults unless the crash-test hook's environment variables are set (CheckpointPauseHook).
        services.TryAddSingleton<ITrainer>(_ => new Trainer(new TrainerOptions { Faults = CheckpointPauseHook.FromEnvironment() }));
        services.TryAddSingleton<IEvaluator>(_ => new Evaluator());
        services.TryAddSingleton<IStudyRunner>(_ => StudyRunner.CreateDefault());
        return services;
    }
}
