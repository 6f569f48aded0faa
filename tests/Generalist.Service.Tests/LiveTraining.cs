namespace Generalist.Service.Tests;

/// <summary>
/// Slow tests that train real models in a `generalist serve` (or mpirun ranks) share this xUnit
/// collection, so they run one after another: on a 2-core machine two of them at once starve
/// each other past their time limits.
/// </summary>
public static class LiveTraining
{
    public const string Collection = "live training";
}
