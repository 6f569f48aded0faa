using System.Security.Cryptography;
using System.Text;
using Generalist.Service.Jobs;
using Generalist.Service.Kernel;
using Generalist.Service.Telemetry;
using Grpc.Core;
using Grpc.Core.Interceptors;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Options;
using Generalist.RunFormat;

namespace Generalist.Service.Api;

/// <summary>
/// Runs before every RPC (the API's own, health and reflection alike): refuses calls while the
/// service is stopping (UNAVAILABLE), checks the API key when one is configured (UNAUTHENTICATED),
/// and turns the exceptions of the domain and the libraries into status codes with details
/// (<see cref="GrpcErrors.FromDomain"/>).
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
        catch (Exception e) when (Translate(e, context.Method) is { } status)
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
        catch (Exception e) when (Translate(e, context.Method) is { } status)
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

    /// <summary>
    /// Every exception a handler lets out becomes a status with a sentence a client can act on,
    /// never gRPC's bare "Exception was thrown by handler": refusals and input errors as their own
    /// status (<see cref="GrpcErrors.FromDomain"/>: a directory another process owns is one), a full
    /// disk as UNAVAILABLE (retry once there is space), read-only storage as FAILED_PRECONDITION,
    /// anything else as INTERNAL with its message.
    /// </summary>
    private RpcException? Translate(Exception e, string method)
    {
        if (e is RpcException or OperationCanceledException) return null;
        if (GrpcErrors.FromDomain(e) is { } refused) return refused;
        if (RunManager.IsStorageFailure(e))
        {
            Log.StorageFailed(log, method, e.Message);
            var why = StorageErrors.Describe(e);
            return StorageErrors.Classify(e) == StorageErrors.Kind.ReadOnly
                ? GrpcErrors.FailedPrecondition("data_root", "STORAGE_NOT_WRITABLE", $"the service's data root cannot be written: {why}")
                : GrpcErrors.Unavailable($"the service's data root cannot be written: {why}");
        }
        Log.HandlerFailed(log, method, e.Message, e);
        return new RpcException(new Status(StatusCode.Internal, $"{method} failed: {e.Message.ReplaceLineEndings(" ")}"));
    }
}
