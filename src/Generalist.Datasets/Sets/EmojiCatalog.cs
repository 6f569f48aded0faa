using System.Text.Json;

namespace Generalist.Datasets.Sets;

/// <summary>One emoji of emoji-datasource: its Unicode name, image file and category.</summary>
public sealed record EmojiEntry(string Name, string Image, string Category);

/// <summary>Parses the package's `emoji.json` (an array of objects with `name`, `image`, `category`, `has_img_twitter`).</summary>
public static class EmojiCatalog
{
    public static List<EmojiEntry> Parse(string jsonPath)
    {
        using var stream = File.OpenRead(jsonPath);
        JsonDocument doc;
        try
        {
            doc = JsonDocument.Parse(stream);
        }
        catch (JsonException e)
        {
            throw new InvalidDataException($"{jsonPath}: not valid JSON ({e.Message})");
        }
        using (doc)
        {
            if (doc.RootElement.ValueKind != JsonValueKind.Array) throw new InvalidDataException($"{jsonPath}: expected a JSON array of emoji");
            var entries = new List<EmojiEntry>();
            var index = 0;
            foreach (var e in doc.RootElement.EnumerateArray())
            {
                string? Field(string name) => e.TryGetProperty(name, out var v) && v.ValueKind == JsonValueKind.String ? v.GetString() : null;
                var name = Field("name");
                var image = Field("image") ?? throw new InvalidDataException($"{jsonPath}: emoji {index} has no `image`");
                var hasTwitter = !e.TryGetProperty("has_img_twitter", out var h) || h.ValueKind == JsonValueKind.True;
                index++;
                // A few entries (e.g. some flags) carry no name; the caption would be empty, so they are skipped.
                if (!hasTwitter || string.IsNullOrWhiteSpace(name)) continue;
                entries.Add(new EmojiEntry(name.Trim().ToLowerInvariant(), image, Field("category") ?? ""));
            }
            return entries;
        }
    }
}
