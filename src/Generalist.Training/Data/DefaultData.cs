namespace Generalist.Training.Data;

/// <summary>The data factory a run uses when its caller gives none: the task catalog's.</summary>
internal static class DefaultData
{
    public static ITrainingDataFactory Factory() =>
        throw new ConfigException("tasks", "tasks: the task catalog is not part of this build; no data factory for the listed tasks");
}
