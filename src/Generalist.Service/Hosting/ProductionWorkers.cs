using Generalist.Evaluation;
using Generalist.Studies;
using Generalist.Training;
using Microsoft.Extensions.DependencyInjection;
using Generalist.Service.Telemetry;
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
        // Until the trainer, evaluator and study runner are part of this build, they are found by
        // their type names, so this file needs no edit when they land; once they do, these become
        // plain typeof(...) registrations.
        if (TryAddByName<ITrainer>(services, "Generalist.Training.Loop.Trainer, Generalist.Training"))
            services.TryAddSingleton(new TrainingTelemetryOptions(RecordFromEvents: false)); // it records generalist.train.* itself
        TryAddByName<IEvaluator>(services, "Generalist.Evaluation.Evaluator, Generalist.Evaluation");
        TryAddByName<IStudyRunner>(services, "Generalist.Studies.StudyRunner, Generalist.Studies");
        return services;
    }

    private static bool TryAddByName<TService>(IServiceCollection services, string typeName) where TService : class
    {
        var type = Type.GetType(typeName, throwOnError: false);
        if (type is null || !typeof(TService).IsAssignableFrom(type)) return false;
        services.TryAddSingleton(typeof(TService), type);
        return true;
    }
}
