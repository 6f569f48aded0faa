using Generalist.Service.Kernel;
using Generalist.Service.Registry;
using Microsoft.Extensions.Diagnostics.HealthChecks;

namespace Generalist.Service.Hosting;

/// <summary>Healthy when the registry answers a query (served at /healthz and by grpc.health.v1).</summary>
public sealed class RegistryHealthCheck(RunRegistry registry) : IHealthCheck
{
    public Task<HealthCheckResult> CheckHealthAsync(HealthCheckContext context, CancellationToken cancellationToken = default)
    {
        try
        {
            return Task.FromResult(registry.Ping() ? HealthCheckResult.Healthy("registry answers") : HealthCheckResult.Unhealthy("registry gave a wrong answer"));
        }
        catch (Exception e)
        {
            return Task.FromResult(HealthCheckResult.Unhealthy("registry unreachable", e));
        }
    }
}

/// <summary>Brings the registry back to a consistent state before the API accepts calls.</summary>
public sealed class RecoveryService(DataRootLock owned, Jobs.RunManager runs, DataLayout layout) : Microsoft.Extensions.Hosting.IHostedService
{
    public Task StartAsync(CancellationToken cancellationToken)
    {
        _ = owned; // resolved first: no other service is using this data root
        layout.EnsureCreated();
        runs.RecoverAfterRestart();
        return Task.CompletedTask;
    }

    public Task StopAsync(CancellationToken cancellationToken) => Task.CompletedTask;
}

/// <summary>The addresses the service really listens on (ports chosen by the OS when 0 was asked).</summary>
public sealed class ServiceEndpoints
{
    internal Microsoft.AspNetCore.Server.Kestrel.Core.ListenOptions? Grpc { get; set; }
    internal Microsoft.AspNetCore.Server.Kestrel.Core.ListenOptions? Metrics { get; set; }

    public Uri GrpcAddress => Address(Grpc, "gRPC");
    public Uri MetricsAddress => Address(Metrics, "metrics");

    private static Uri Address(Microsoft.AspNetCore.Server.Kestrel.Core.ListenOptions? listen, string what) =>
        listen?.IPEndPoint is { } ep ? new Uri($"http://{(ep.AddressFamily == System.Net.Sockets.AddressFamily.InterNetworkV6 ? $"[{ep.Address}]" : ep.Address.ToString())}:{ep.Port}")
        : throw new InvalidOperationException($"the {what} endpoint is not bound (in-process test server?)");
}
