using System.Net;
using Generalist.Service.Api;
using Generalist.Service.Jobs;
using Generalist.Service.Kernel;
using Generalist.Service.Page;
using Generalist.Service.Registry;
using Generalist.Service.Scheduling;
using Generalist.Service.Telemetry;
using Grpc.AspNetCore.Server;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Hosting;
using Microsoft.AspNetCore.Server.Kestrel.Core;
using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Options;
using OpenTelemetry;
using OpenTelemetry.Metrics;
using OpenTelemetry.Resources;
using OpenTelemetry.Trace;

namespace Generalist.Service.Hosting;

/// <summary>How to host the service: settings (section "Service", e.g. "Service:Port"), extra
/// registrations applied last (test doubles), and whether to use the in-memory test server.</summary>
public sealed class ServiceHostSettings
{
    public IDictionary<string, string?> Configuration { get; init; } = new Dictionary<string, string?>();
    public Action<IServiceCollection>? ConfigureServices { get; init; }
    public Action<ILoggingBuilder>? ConfigureLogging { get; init; }
    /// <summary>Builds the app on an in-memory server (tests); no sockets.</summary>
    public Action<IWebHostBuilder>? ConfigureWebHost { get; init; }
}

/// <summary>
/// Builds the Generalist service: Kestrel with gRPC on an HTTP/2-only endpoint (h2c needs one) and
/// /metrics + /healthz on an HTTP/1.1 endpoint; registry, scheduler, telemetry and the API.
/// `generalist serve`, `generalist demo` and the tests all host exactly this.
/// </summary>
public static class GeneralistServiceHost
{
    public static WebApplication Build(ServiceHostSettings settings)
    {
        var builder = WebApplication.CreateBuilder(new WebApplicationOptions
        {
            ApplicationName = "generalist",
            ContentRootPath = AppContext.BaseDirectory,
            Args = [],
        });
        ServiceLogging.AddDefaults(builder.Configuration);
        builder.Configuration.AddInMemoryCollection(settings.Configuration);
        settings.ConfigureLogging?.Invoke(builder.Logging);
        var endpoints = new ServiceEndpoints();
        if (settings.ConfigureWebHost is { } configureWebHost) configureWebHost(builder.WebHost);
        else builder.WebHost.ConfigureKestrel(kestrel => ListenOn(kestrel, endpoints));
        builder.WebHost.UseShutdownTimeout(TimeSpan.FromSeconds(builder.Configuration.GetValue($"{ServiceOptions.Section}:ShutdownGraceSeconds", 60)));

        var services = builder.Services;
        services.AddSingleton(endpoints);
        AddGeneralistService(services, builder.Configuration);
        services.AddGeneralistWorkers();
        settings.ConfigureServices?.Invoke(services);

        var app = builder.Build();
        app.MapGrpcService<RunsApi>();
        app.MapGrpcService<EvaluationsApi>();
        app.MapGrpcService<StudiesApi>();
        app.MapGrpcService<CheckpointsApi>();
        app.MapGrpcHealthChecksService();
        app.MapGrpcReflectionService();
        app.MapPrometheusScrapingEndpoint("/metrics");
        app.MapHealthChecks("/healthz");
        app.MapRunPages();
        return app;
    }

    public static void AddGeneralistService(IServiceCollection services, IConfiguration configuration)
    {
        services.AddOptions<ServiceOptions>().Bind(configuration.GetSection(ServiceOptions.Section)).ValidateOnStart();
        services.AddSingleton<IValidateOptions<ServiceOptions>, ServiceOptionsValidator>();
        services.AddSingleton(TimeProvider.System);
        services.AddSingleton<DataLayout>();
        services.AddSingleton<DataRootLock>();
        // The registry opens only once this service owns the data root.
        services.AddSingleton(sp =>
        {
            sp.GetRequiredService<DataRootLock>();
            return new RunRegistry(sp.GetRequiredService<DataLayout>(), sp.GetRequiredService<TimeProvider>());
        });
        services.AddSingleton<JobScheduler>();
        services.AddSingleton<IQueueLength>(sp => sp.GetRequiredService<JobScheduler>());
        services.AddSingleton<EventHub<JobEvent<RunRecord>>>();
        services.AddSingleton<EventHub<JobEvent<EvaluationRecord>>>();
        services.AddSingleton<EventHub<JobEvent<StudyRecord>>>();
        services.AddSingleton<GeneralistTelemetry>();
        services.AddSingleton<LaunchedTrainer>();
        // The managers take the workers (ITrainer, IEvaluator, IStudyRunner: AddGeneralistWorkers or
        // the host's own) by constructor; one not registered means that kind of job is NOT_INSTALLED.
        services.AddSingleton<RunManager>();
        services.AddSingleton<EvaluationManager>();
        services.AddSingleton<StudyManager>();
        // Order matters: the registry is made consistent before the workers take jobs.
        services.AddHostedService<RecoveryService>();
        services.AddHostedService(sp => sp.GetRequiredService<JobScheduler>());

        services.AddSingleton<ServiceGateInterceptor>();
        services.AddGrpc(o => o.Interceptors.Add<ServiceGateInterceptor>());
        services.AddOptions<GrpcServiceOptions>().Configure<IOptions<ServiceOptions>>((grpc, service) =>
        {
            // Oversized messages get RESOURCE_EXHAUSTED from gRPC itself.
            grpc.MaxReceiveMessageSize = service.Value.MaxMessageBytes;
            grpc.MaxSendMessageSize = service.Value.MaxMessageBytes;
        });
        services.AddGrpcReflection();
        services.AddGrpcHealthChecks().AddCheck<RegistryHealthCheck>("registry");

        var otel = services.AddOpenTelemetry()
            .ConfigureResource(r => r.AddService("generalist", serviceVersion: typeof(GeneralistServiceHost).Assembly.GetName().Version?.ToString()))
            .WithMetrics(m => m
                .AddMeter(TelemetryNames.Meters)
                .AddRuntimeInstrumentation()
                .AddAspNetCoreInstrumentation()
                .AddPrometheusExporter(o => o.ScrapeResponseCacheDurationMilliseconds = 0))
            .WithTracing(t => t
                .AddSource(TelemetryNames.ActivitySources)
                .AddAspNetCoreInstrumentation());
        // OTLP (metrics, traces, logs) only when a collector is named, as OpenTelemetry's own convention.
        if (!string.IsNullOrWhiteSpace(Environment.GetEnvironmentVariable("OTEL_EXPORTER_OTLP_ENDPOINT")))
            otel.UseOtlpExporter();
    }

    private static void ListenOn(KestrelServerOptions kestrel, ServiceEndpoints endpoints)
    {
        var options = kestrel.ApplicationServices.GetRequiredService<IOptions<ServiceOptions>>().Value;
        var address = IPAddress.Parse(options.BindAddress);
        kestrel.AddServerHeader = false;
        // gRPC without TLS is HTTP/2 with prior knowledge, which needs an HTTP/2-only endpoint.
        kestrel.Listen(address, options.Port, listen =>
        {
            listen.Protocols = HttpProtocols.Http2;
            endpoints.Grpc = listen;
        });
        kestrel.Listen(address, options.MetricsPort, listen =>
        {
            listen.Protocols = HttpProtocols.Http1;
            endpoints.Metrics = listen;
        });
    }
}
