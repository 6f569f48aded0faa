using System.Security.Cryptography;
using System.Text;
using Microsoft.AspNetCore.Http;

namespace Generalist.Service.Page;

/// <summary>
/// Who may read the run page: anyone when the service has no API key; otherwise a request that
/// presents the key, as `Authorization: Bearer KEY` (scripts, like the gRPC API) or as HTTP Basic
/// credentials with the key as password (a browser asks for them itself, no script needed).
/// </summary>
public sealed class PageAccess(string? apiKey)
{
    public const string Realm = "generalist";
    private readonly byte[]? _expected = string.IsNullOrEmpty(apiKey) ? null : Encoding.UTF8.GetBytes(apiKey);

    public bool Allows(HttpRequest request)
    {
        if (_expected is null) return true;
        var header = request.Headers.Authorization.ToString();
        string? presented = null;
        if (header.StartsWith("Bearer ", StringComparison.Ordinal)) presented = header["Bearer ".Length..];
        else if (header.StartsWith("Basic ", StringComparison.Ordinal))
        {
            try
            {
                var pair = Encoding.UTF8.GetString(Convert.FromBase64String(header["Basic ".Length..]));
                var colon = pair.IndexOf(':');
                presented = colon < 0 ? null : pair[(colon + 1)..];
            }
            catch (FormatException)
            {
                return false;
            }
        }
        // Constant time, as for the gRPC API: the comparison does not reveal how much of a guess was right.
        return presented is not null && CryptographicOperations.FixedTimeEquals(Encoding.UTF8.GetBytes(presented), _expected);
    }
}
