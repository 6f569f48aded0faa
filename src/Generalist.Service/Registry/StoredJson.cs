using System.Text.Json;

namespace Generalist.Service.Registry;

/// <summary>A study result as stored: paths already relative to the data root.</summary>
public sealed record StoredStudyResult(string ReportPath, IReadOnlyList<string> Artifacts);

/// <summary>How results are stored in the registry's JSON columns (NaN allowed: a score can be undefined).</summary>
public static class StoredJson
{
    public static readonly JsonSerializerOptions Options = new()
    {
        PropertyNamingPolicy = JsonNamingPolicy.SnakeCaseLower,
        NumberHandling = System.Text.Json.Serialization.JsonNumberHandling.AllowNamedFloatingPointLiterals,
    };
}
