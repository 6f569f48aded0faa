namespace Generalist.Service.Tests;

/// <summary>
/// Tests that read values off a service's /metrics run alone, after the parallel tests. Every
/// service in the test process creates meters of the same names, and OpenTelemetry's SDK maps
/// same-named instruments to one metric stream: disposing any other test's service (and so its
/// meters) deactivates that stream for every provider, and the series vanish from a live scrape
/// (open-telemetry/opentelemetry-dotnet#6412). One service per process, as `generalist serve`
/// runs, never meets this.
/// </summary>
[CollectionDefinition(Name, DisableParallelization = true)]
public sealed class MetricsScrape
{
    public const string Name = "metrics scrape";
}
