using Generalist.Service.Kernel;
using Generalist.Service.Security;
using Generalist.Training.Ownership;
using Google.Protobuf.WellKnownTypes;
using Google.Rpc;
using Grpc.Core;
using Generalist.RunFormat;

namespace Generalist.Service.Api;

/// <summary>
/// gRPC errors with google.rpc details (AIP-193): clients read the field, resource or quota that
/// caused them, not just a message. <see cref="FromDomain"/> is the one place where the domain's
/// refusals become status codes.
/// </summary>
public static class GrpcErrors
{
    /// <summary>
    /// The status of a refusal the domain or a library threw (<see cref="ServiceException"/>, an
    /// unsafe path, a bad config field, a directory another process holds); null for any other exception.
    /// </summary>
    public static RpcException? FromDomain(Exception e) => e switch
    {
        InvalidRequestException x => InvalidArgument(x.Field, x.Description),
        NotFoundException x => NotFound(x.ResourceType, x.Name),
        DuplicateNameException x => AlreadyExists(x.Kind, x.Name),
        PreconditionFailedException x => FailedPrecondition(x.Subject, x.Type, x.Description),
        QueueFullException x => ResourceExhausted(QueueFullException.Subject, x.Description),
        UnsafePathException x => InvalidArgument(x.Field, x.Description),
        ConfigException x => InvalidArgument(string.IsNullOrEmpty(x.Field) ? "config_json" : x.Field, x.Message),
        DirectoryInUseException x => FailedPrecondition(x.Directory, "DIRECTORY_IN_USE", x.Message),
        _ => null,
    };

    public static RpcException InvalidArgument(string field, string description) => Build(Code.InvalidArgument, $"{field}: {description}",
        new BadRequest { FieldViolations = { new BadRequest.Types.FieldViolation { Field = field, Description = description } } });

    public static RpcException NotFound(string resourceType, string name) => Build(Code.NotFound, $"{resourceType} '{name}' not found",
        new ResourceInfo { ResourceType = resourceType, ResourceName = name, Description = "not found" });

    public static RpcException AlreadyExists(string resourceType, string name) => Build(Code.AlreadyExists, $"{resourceType} '{name}' already exists; pick another name",
        new ResourceInfo { ResourceType = resourceType, ResourceName = name, Description = "already exists" });

    public static RpcException FailedPrecondition(string subject, string type, string description) => Build(Code.FailedPrecondition, description,
        new PreconditionFailure { Violations = { new PreconditionFailure.Types.Violation { Type = type, Subject = subject, Description = description } } });

    public static RpcException ResourceExhausted(string subject, string description) => Build(Code.ResourceExhausted, description,
        new QuotaFailure { Violations = { new QuotaFailure.Types.Violation { Subject = subject, Description = description } } });

    public static RpcException Unavailable(string description) => Build(Code.Unavailable, description,
        new RetryInfo { RetryDelay = Duration.FromTimeSpan(TimeSpan.FromSeconds(5)) });

    public static RpcException Unauthenticated(string description) => Build(Code.Unauthenticated, description,
        new ErrorInfo { Reason = "API_KEY_INVALID", Domain = "generalist" });

    private static RpcException Build(Code code, string message, Google.Protobuf.IMessage detail) =>
        new Google.Rpc.Status { Code = (int)code, Message = message, Details = { Any.Pack(detail) } }.ToRpcException();
}

public static class GrpcErrorsExtensions
{
    /// <summary>Several field violations in one INVALID_ARGUMENT (a config with more than one bad field).</summary>
    public static RpcException InvalidArguments(IReadOnlyList<(string Field, string Description)> violations)
    {
        var request = new BadRequest();
        foreach (var (field, description) in violations)
            request.FieldViolations.Add(new BadRequest.Types.FieldViolation { Field = field, Description = description });
        var message = string.Join("; ", violations.Select(v => $"{v.Field}: {v.Description}"));
        return new Google.Rpc.Status { Code = (int)Code.InvalidArgument, Message = message, Details = { Any.Pack(request) } }.ToRpcException();
    }
}
