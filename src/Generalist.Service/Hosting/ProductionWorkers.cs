using Generalist.Evaluation;
using Generalist.Service.Telemetry;
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
        services.TryAddSingleton<ITrainer>(_ => new Trainer());
        // The trainer records generalist.train.* in its own `Generalist.Training` meter.
        services.TryAddSingleton(new TrainingTelemetryOptions(RecordFromEvents: false));

        // The evaluator and the study runner are not part of this build yet: they are found by
        // their type names, so they plug in without an edit here; once they are, these become
        // plain registrations like the trainer's.
        TryAddByName<IEvaluator>(services, "Generalist.Evaluation.Evaluator, Generalist.Evaluation");
        TryAddByName<IStudyRunner>(services, "Generalist.Studies.StudyRunner, Generalist.Studies");
        return services;
    }

    private static bool TryAddByName<TService>(IServiceCollection services, string typeName) where TService : class
    {
        var type = Type.GetType(typeName, throwOnError: false);
        if (type is null || !typeof(TService).IsAssignableFrom(type)) return false;
        // Only types buildable without further registrations (every constructor argument optional).
        var ctor = type.GetConstructors().FirstOrDefault(c => c.GetParameters().All(p => p.HasDefaultValue));
        if (ctor is null) return false;
        services.TryAddSingleton(typeof(TService), _ => ctor.Invoke([.. ctor.GetParameters().Select(p => p.DefaultValue)]));
        return true;
    }
}
