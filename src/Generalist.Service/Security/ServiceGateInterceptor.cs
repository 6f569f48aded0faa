using System.Security.Cryptography;
using System.Text;
using Generalist.Service.Api;
using Generalist.Service.Hosting;
using Generalist.Service.Registry;
using Generalist.Service.Telemetry;
using Generalist.Training;
using Grpc.Core;
using Grpc.Core.Interceptors;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Options;

namespace Generalist.Service.Security;

/// <summary>
/// Runs before every RPC (the API's own, health and reflection alike): refuses calls while the
/// service is stopping (UNAVAILABLE), checks the API key when one is configured (UNAUTHENTICATED),
/// and turns the library's input exceptions into status codes with details.
/// </summary>
public sealed class ServiceGateInterceptor(IOptions<ServiceOptions> options, IHostApplicationLifetime lifetime, ILogger<ServiceGateInterceptor> log) : Interceptor
{
    private readonly byte[]? _expected = options.Value.ApiKey is { Length: > 0 } key ? Encoding.UTF8.GetBytes(key) : null;

    public override async Task<TResponse> UnaryServerHandler<TRequest, TResponse>(TRequest request, ServerCallContext context, UnaryServerMethod<TRequest, TResponse> continuation)
    {
        Admit(context);
        try
        {
            return await continuation(request, context);
        }
        catch (Exception e) when (Translate(e) is { } status)
        {
            throw status;
        }
    }

    public override async Task ServerStreamingServerHandler<TRequest, TResponse>(TRequest request, IServerStreamWriter<TResponse> responseStream, ServerCallContext context, ServerStreamingServerMethod<TRequest, TResponse> continuation)
    {
        Admit(context);
        try
        {
            await continuation(request, responseStream, context);
        }
        catch (Exception e) when (Translate(e) is { } status)
        {
            throw status;
        }
    }

    public override Task<TResponse> ClientStreamingServerHandler<TRequest, TResponse>(IAsyncStreamReader<TRequest> requestStream, ServerCallContext context, ClientStreamingServerMethod<TRequest, TResponse> continuation)
    {
        Admit(context);
        return continuation(requestStream, context);
    }

    public override Task DuplexStreamingServerHandler<TRequest, TResponse>(IAsyncStreamReader<TRequest> requestStream, IServerStreamWriter<TResponse> responseStream, ServerCallContext context, DuplexStreamingServerMethod<TRequest, TResponse> continuation)
    {
        Admit(context);
        return continuation(requestStream, responseStream, context);
    }

    private void Admit(ServerCallContext context)
    {
        if (lifetime.ApplicationStopping.IsCancellationRequested)
            throw GrpcErrors.Unavailable("the service is shutting down; retry against the restarted service");
        if (_expected is null) return;
        var header = context.RequestHeaders.GetValue("authorization");
        if (string.IsNullOrEmpty(header))
        {
            Log.CallRejected(log, context.Method, "no API key");
            throw GrpcErrors.Unauthenticated("this service needs an API key: send the metadata 'authorization: Bearer KEY' (generalist --api-key or GENERALIST_API_KEY)");
        }
        const string scheme = "Bearer ";
        var presented = header.StartsWith(scheme, StringComparison.OrdinalIgnoreCase) ? Encoding.UTF8.GetBytes(header[scheme.Length..].Trim()) : [];
        // Constant time, so the comparison does not reveal how much of a guess was right.
        if (!CryptographicOperations.FixedTimeEquals(presented, _expected))
        {
            Log.CallRejected(log, context.Method, "wrong API key");
            throw GrpcErrors.Unauthenticated("the API key is not valid for this service");
        }
    }

    private static RpcException? Translate(Exception e) => e switch
    {
        RpcException => null,
        UnsafePathException p => GrpcErrors.InvalidArgument(p.Field, p.Description),
        ConfigException c => GrpcErrors.InvalidArgument(string.IsNullOrEmpty(c.Field) ? "config_json" : c.Field, c.Message),
        DuplicateNameException d => GrpcErrors.AlreadyExists(d.Kind, d.Name),
        _ => null,
    };
}
