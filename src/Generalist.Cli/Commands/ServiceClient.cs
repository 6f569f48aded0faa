using System.CommandLine;
using System.Net.Http;
using Google.Protobuf;
using Google.Rpc;
using Grpc.Core;
using Grpc.Core.Interceptors;
using Grpc.Net.Client;
using Generalist.RunFormat;

namespace Generalist.Cli.Commands;

/// <summary>
/// The client side of `generalist runs|checkpoints|...`: --server and --api-key options, the gRPC
/// channel, and one-line errors for every way a call can fail (exit 1 when the service cannot be
/// reached or fails, exit 2 when the request itself was refused).
/// </summary>
public sealed class ServiceClient : IDisposable
{
    public const int DefaultPort = 50051;
    public static readonly string DefaultServer = $"http://127.0.0.1:{DefaultPort}";

    private readonly GrpcChannel _channel;

    private ServiceClient(Uri server, string? apiKey)
    {
        Server = server;
        _channel = GrpcChannel.ForAddress(server, new GrpcChannelOptions { MaxReceiveMessageSize = 64 * 1024 * 1024 });
        var invoker = _channel.CreateCallInvoker();
        Invoker = apiKey is { Length: > 0 } key ? invoker.Intercept(m =>
        {
            m.Add("authorization", "Bearer " + key);
            return m;
        }) : invoker;
    }

    /// <summary>A client of a service at a known address (the demo's in-process service).</summary>
    public static ServiceClient ForAddress(Uri server, string? apiKey = null) => new(server, apiKey);

    public Uri Server { get; }
    public CallInvoker Invoker { get; }

    /// <summary>JSON of API messages: proto3 JSON mapping with the proto's snake_case field names.</summary>
    public static readonly JsonFormatter Json = new(JsonFormatter.Settings.Default.WithFormatDefaultValues(true).WithPreserveProtoFieldNames(true));

    /// <summary>An API message as JSON, with non-finite numbers as null like every other --json output.</summary>
    public static void WriteJson(IMessage message) => Console.Out.WriteLine(Output.JsonOutput.Format(message, Json));

    public void Dispose() => _channel.Dispose();

    /// <summary>--server, --api-key: added to every client command.</summary>
    public sealed class Options
    {
        public Option<string> Server { get; } = new("--server")
        {
            Description = $"Address of the Generalist service (default: GENERALIST_SERVER or {DefaultServer}).",
        };

        public Option<string?> ApiKey { get; } = new("--api-key")
        {
            Description = "API key of the service (default: GENERALIST_API_KEY).",
        };

        public void AddTo(Command command)
        {
            command.Options.Add(Server);
            command.Options.Add(ApiKey);
        }

        public ServiceClient Connect(ParseResult parse)
        {
            var text = parse.GetValue(Server) ?? Environment.GetEnvironmentVariable("GENERALIST_SERVER") ?? DefaultServer;
            if (!Uri.TryCreate(text, UriKind.Absolute, out var uri) || uri.Scheme is not ("http" or "https"))
                throw new CliInputException($"--server must be an http:// or https:// address such as {DefaultServer} (got '{text}')");
            var key = parse.GetValue(ApiKey) ?? Environment.GetEnvironmentVariable("GENERALIST_API_KEY");
            return new ServiceClient(uri, key);
        }
    }

    /// <summary>Runs a client command; every failure becomes one line on stderr and an exit code.</summary>
    public static async Task<int> GuardAsync(Func<Task<int>> body, Func<string>? server = null)
    {
        try
        {
            return await body();
        }
        catch (RpcException e)
        {
            var (code, message) = Describe(e, server?.Invoke());
            Console.Error.WriteLine($"error: {message}");
            return code;
        }
        catch (Exception e) when (e is CliInputException or ConfigException or FileNotFoundException or ArgumentException)
        {
            Console.Error.WriteLine($"error: {e.Message}");
            return ExitCodes.InvalidInput;
        }
    }

    public static (int ExitCode, string Message) Describe(RpcException e, string? server)
    {
        var status = e.GetRpcStatus();
        var detail = status?.Message ?? e.Status.Detail;
        if (status?.GetDetail<BadRequest>() is { } bad && bad.FieldViolations.Count > 0)
            detail = string.Join("; ", bad.FieldViolations.Select(v => $"{v.Field}: {v.Description}"));
        return e.StatusCode switch
        {
            StatusCode.Unavailable when e.Status.DebugException is HttpRequestException or System.Net.Sockets.SocketException || status is null =>
                (ExitCodes.Failed, $"cannot reach the Generalist service at {server ?? "the server"} ({Reason(e)}); start it with `generalist serve` or pass --server"),
            StatusCode.InvalidArgument or StatusCode.NotFound or StatusCode.AlreadyExists or StatusCode.FailedPrecondition or StatusCode.OutOfRange or StatusCode.Unauthenticated or StatusCode.PermissionDenied =>
                (ExitCodes.InvalidInput, detail),
            StatusCode.DeadlineExceeded => (ExitCodes.Failed, $"the service did not answer in time ({detail})"),
            _ => (ExitCodes.Failed, $"{e.StatusCode}: {detail}"),
        };
    }

    private static string Reason(RpcException e)
    {
        for (Exception? inner = e.Status.DebugException; inner is not null; inner = inner.InnerException)
            if (inner is System.Net.Sockets.SocketException s) return s.Message;
        return e.Status.DebugException?.Message ?? e.Status.Detail;
    }
}
