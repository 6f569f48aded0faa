using System.Security.Cryptography;
using Generalist.Service.Kernel;
using Generalist.RunFormat;

namespace Generalist.Service.Jobs;

/// <summary>Names of evaluations and studies: given (checked against the run-name rule) or generated.</summary>
public static class JobNames
{
    public static string Choose(string? requested, string prefix, TimeProvider clock, string field = "name")
    {
        if (string.IsNullOrEmpty(requested))
            return $"{prefix}-{clock.GetUtcNow():yyyyMMdd-HHmmss}-{Convert.ToHexStringLower(RandomNumberGenerator.GetBytes(3))}";
        if (!RunNames.IsValid(requested)) throw new InvalidRequestException(field, RunNames.Rule);
        return requested;
    }

    public static void Require(string? name, string field = "name")
    {
        if (!RunNames.IsValid(name)) throw new InvalidRequestException(field, RunNames.Rule);
    }
}
