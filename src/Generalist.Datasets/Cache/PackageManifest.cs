using System.Text.Json;
using System.Text.Json.Serialization;

namespace Generalist.Datasets.Cache;

/// <summary>manifest.json: for every package key, its archive (relative to the cache root), SHA-256, size and fetch time.</summary>
internal sealed class PackageManifest(string path)
{
    public sealed record Entry(string Archive, string Sha256, long Size, DateTime FetchedUtc);

    private static readonly JsonSerializerOptions Json = new() { WriteIndented = true, PropertyNamingPolicy = JsonNamingPolicy.SnakeCaseLower, DefaultIgnoreCondition = JsonIgnoreCondition.Never };

    public string Path { get; } = path;

    public Entry? Get(string key) => Read().GetValueOrDefault(key);

    public void Set(string key, Entry entry)
    {
        var all = Read();
        all[key] = entry;
        // Temp name then rename: a crash never leaves a half-written manifest.
        var temp = Path + ".tmp";
        File.WriteAllText(temp, JsonSerializer.Serialize(new SortedDictionary<string, Entry>(all, StringComparer.Ordinal), Json));
        File.Move(temp, Path, overwrite: true);
    }

    private Dictionary<string, Entry> Read()
    {
        if (!File.Exists(Path)) return [];
        try
        {
            return JsonSerializer.Deserialize<Dictionary<string, Entry>>(File.ReadAllText(Path), Json) ?? [];
        }
        catch (JsonException e)
        {
            throw new InvalidDataException($"{Path} is not a valid package manifest ({e.Message}); delete it to re-fetch and re-record every package");
        }
    }
}
