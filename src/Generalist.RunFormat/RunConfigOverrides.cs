namespace Generalist.RunFormat;

/// <summary>
/// The fields a caller lays over a run config (a config file, a request's config_json, or the
/// defaults): `generalist train`'s flags, the service's CreateRun fields, a study's sub-run
/// settings. One overlay for every way in; null leaves the field as it is. Validation follows on
/// the whole result (<see cref="RunConfig.ValidateForTraining"/>), so a flag can fix a field.
/// </summary>
public sealed record RunConfigOverrides
{
    public string? Name { get; init; }
    public string? Preset { get; init; }
    public IReadOnlyList<TaskWeight>? Tasks { get; init; }
    public int? Steps { get; init; }
    public string? Precision { get; init; }
    public int? BatchSize { get; init; }
    public long? Seed { get; init; }
    public string? InitFrom { get; init; }

    public RunConfig ApplyTo(RunConfig config) => config with
    {
        Name = Name ?? config.Name,
        Preset = Preset ?? config.Preset,
        Tasks = Tasks ?? config.Tasks,
        Steps = Steps ?? config.Steps,
        Precision = Precision ?? config.Precision,
        BatchSize = BatchSize ?? config.BatchSize,
        Seed = Seed ?? config.Seed,
        InitFrom = InitFrom ?? config.InitFrom,
    };
}
