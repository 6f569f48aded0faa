namespace Generalist.Service.Kernel;

/// <summary>
/// A request the service refuses, said in the domain's words. Each subclass is one kind of refusal,
/// which the API (Api/GrpcErrors.cs, the only place that knows status codes) turns into one status
/// code; its fields are what the status message and its details are made of.
/// </summary>
public abstract class ServiceException(string message) : Exception(message);

/// <summary>A request field with a bad value (INVALID_ARGUMENT with the field).</summary>
public sealed class InvalidRequestException(string field, string description) : ServiceException($"{field}: {description}")
{
    public string Field { get; } = field;
    public string Description { get; } = description;
}

/// <summary>A named resource (run, evaluation, study, checkpoint, ...) that does not exist (NOT_FOUND).</summary>
public sealed class NotFoundException(string resourceType, string name) : ServiceException($"{resourceType} '{name}' not found")
{
    public string ResourceType { get; } = resourceType;
    public string Name { get; } = name;
}

/// <summary>A second resource with the same name (ALREADY_EXISTS).</summary>
public sealed class DuplicateNameException(string kind, string name) : ServiceException($"{kind} '{name}' already exists")
{
    public string Kind { get; } = kind;
    public string Name { get; } = name;
}

/// <summary>
/// A request that cannot be done in the resource's present state, or by this build of the service
/// (FAILED_PRECONDITION). <see cref="Type"/> is the machine-readable reason (STATE, NO_CHECKPOINT,
/// NOT_INSTALLED, ...), <see cref="Subject"/> what it is about (runs/NAME, trainer, ...).
/// </summary>
public sealed class PreconditionFailedException(string subject, string type, string description) : ServiceException(description)
{
    public string Subject { get; } = subject;
    public string Type { get; } = type;
    public string Description { get; } = description;
}

/// <summary>The job queue has no room for another job (RESOURCE_EXHAUSTED on the quota "queue").</summary>
public sealed class QueueFullException(string description) : ServiceException(description)
{
    public const string Subject = "queue";
    public string Description { get; } = description;
}
