using System.Text.Json;
using Generalist.Episodes;

namespace Generalist.Tokenizers;

/// <summary>
/// Reads the episode JSON of `generalist tokenize`:
/// {"task": "...", "timesteps": [{"observation": {"text": "...", "image": "path.png",
/// "discrete": [..], "continuous": [..]}, "action": {"discrete": [..]} | {"continuous": [..]},
/// "reward": 0, "action_scored": true}]}. Every field is optional but the action
/// (action_scored defaults to true; false means the action tokens carry no loss); image paths are
/// relative to the JSON file. Errors are ArgumentExceptions whose one-line message names the file and the field.
/// </summary>
public static class EpisodeJson
{
    public const string DefaultTask = "episode";

    /// <summary>
    /// The largest episode file read: 8 MiB of JSON, about a million numbers. Tokenizing one holds
    /// every position of the report in memory (a 50 MB episode peaked at 4.3 GB); longer episodes
    /// belong in shards (`generalist data`), which stream.
    /// </summary>
    public const long MaxFileBytes = 8L << 20;

    public static Episode Read(string path)
    {
        var full = Path.GetFullPath(path);
        if (!File.Exists(full)) throw new FileNotFoundException($"--input: file not found: {path}", full);
        var length = new FileInfo(full).Length;
        if (length > MaxFileBytes)
            throw new ArgumentException($"--input: {path} is {length / (1024.0 * 1024.0):F1} MiB; an episode file is at most {MaxFileBytes >> 20} MiB (split it into several episodes)");
        JsonDocument doc;
        try
        {
            doc = JsonDocument.Parse(File.ReadAllBytes(full), new JsonDocumentOptions { AllowTrailingCommas = true, CommentHandling = JsonCommentHandling.Skip });
        }
        catch (JsonException e)
        {
            throw new ArgumentException($"{path}: not valid JSON (line {e.LineNumber + 1}, byte {e.BytePositionInLine + 1}): {e.Message.Split('.')[0]}");
        }
        using (doc) return Parse(doc.RootElement, Path.GetDirectoryName(full)!, path);
    }

    public static Episode Parse(JsonElement root, string baseDirectory, string source = "episode")
    {
        if (root.ValueKind != JsonValueKind.Object) throw Bad(source, "(root)", "must be a JSON object");
        var task = DefaultTask;
        if (root.TryGetProperty("task", out var taskElement) && taskElement.ValueKind != JsonValueKind.Null)
        {
            if (taskElement.ValueKind != JsonValueKind.String || string.IsNullOrWhiteSpace(taskElement.GetString()))
                throw Bad(source, "task", "must be a non-empty string");
            task = taskElement.GetString()!;
        }
        if (!root.TryGetProperty("timesteps", out var steps) || steps.ValueKind != JsonValueKind.Array || steps.GetArrayLength() == 0)
            throw Bad(source, "timesteps", "must be an array with at least one timestep");
        var timesteps = new List<Timestep>();
        var i = 0;
        foreach (var step in steps.EnumerateArray())
        {
            var field = $"timesteps[{i}]";
            if (step.ValueKind != JsonValueKind.Object) throw Bad(source, field, "must be an object");
            var observation = new Observation();
            if (step.TryGetProperty("observation", out var o) && o.ValueKind != JsonValueKind.Null)
                observation = ParseObservation(o, baseDirectory, source, field + ".observation");
            if (!step.TryGetProperty("action", out var a) || a.ValueKind == JsonValueKind.Null)
                throw Bad(source, field + ".action", "is required: {\"discrete\": [..]} or {\"continuous\": [..]}");
            var action = ParseAction(a, source, field + ".action");
            var reward = 0f;
            if (step.TryGetProperty("reward", out var r) && r.ValueKind != JsonValueKind.Null)
            {
                if (r.ValueKind != JsonValueKind.Number || !float.IsFinite(r.GetSingle())) throw Bad(source, field + ".reward", "must be a finite number");
                reward = r.GetSingle();
            }
            var scored = true;
            if (step.TryGetProperty("action_scored", out var sc) && sc.ValueKind != JsonValueKind.Null)
            {
                if (sc.ValueKind is not (JsonValueKind.True or JsonValueKind.False)) throw Bad(source, field + ".action_scored", "must be true or false");
                scored = sc.GetBoolean();
            }
            timesteps.Add(new Timestep(observation, action, reward, scored));
            i++;
        }
        return new Episode(task, timesteps);
    }

    private static Observation ParseObservation(JsonElement o, string baseDirectory, string source, string field)
    {
        if (o.ValueKind != JsonValueKind.Object) throw Bad(source, field, "must be an object");
        string? text = null;
        ImageData? image = null;
        if (o.TryGetProperty("text", out var t) && t.ValueKind != JsonValueKind.Null)
        {
            if (t.ValueKind != JsonValueKind.String) throw Bad(source, field + ".text", "must be a string");
            text = t.GetString();
        }
        if (o.TryGetProperty("image", out var im) && im.ValueKind != JsonValueKind.Null)
        {
            if (im.ValueKind != JsonValueKind.String || string.IsNullOrWhiteSpace(im.GetString())) throw Bad(source, field + ".image", "must be a path to a PNG or JPEG file");
            var imagePath = Path.GetFullPath(Path.Combine(baseDirectory, im.GetString()!));
            if (!File.Exists(imagePath)) throw Bad(source, field + ".image", $"file not found: {imagePath}");
            try { image = ImageDecoder.Decode(imagePath); }
            catch (InvalidDataException e) { throw Bad(source, field + ".image", e.Message); }
        }
        var discrete = Ints(o, "discrete", source, field);
        var continuous = Floats(o, "continuous", source, field);
        return new Observation(text, image, discrete, continuous);
    }

    private static ActionValue ParseAction(JsonElement a, string source, string field)
    {
        if (a.ValueKind != JsonValueKind.Object) throw Bad(source, field, "must be {\"discrete\": [..]} or {\"continuous\": [..]}");
        var discrete = Ints(a, "discrete", source, field);
        var continuous = Floats(a, "continuous", source, field);
        if ((discrete is { Length: > 0 }) == (continuous is { Length: > 0 }))
            throw Bad(source, field, "must hold exactly one of \"discrete\" or \"continuous\", with at least one value");
        return new ActionValue(discrete, continuous);
    }

    private static int[]? Ints(JsonElement parent, string name, string source, string field)
    {
        if (!parent.TryGetProperty(name, out var arr) || arr.ValueKind == JsonValueKind.Null) return null;
        if (arr.ValueKind != JsonValueKind.Array) throw Bad(source, $"{field}.{name}", "must be an array of integers in [0, 1024)");
        var values = new int[arr.GetArrayLength()];
        var i = 0;
        foreach (var v in arr.EnumerateArray())
        {
            if (v.ValueKind != JsonValueKind.Number || !v.TryGetInt32(out var x))
                throw Bad(source, $"{field}.{name}[{i}]", "must be an integer in [0, 1024)");
            values[i++] = x;
        }
        return values;
    }

    private static float[]? Floats(JsonElement parent, string name, string source, string field)
    {
        if (!parent.TryGetProperty(name, out var arr) || arr.ValueKind == JsonValueKind.Null) return null;
        if (arr.ValueKind != JsonValueKind.Array) throw Bad(source, $"{field}.{name}", "must be an array of numbers");
        var values = new float[arr.GetArrayLength()];
        var i = 0;
        foreach (var v in arr.EnumerateArray())
        {
            if (v.ValueKind != JsonValueKind.Number || !float.IsFinite(v.GetSingle()))
                throw Bad(source, $"{field}.{name}[{i}]", "must be a finite number");
            values[i++] = v.GetSingle();
        }
        return values;
    }

    private static ArgumentException Bad(string source, string field, string message) => new($"{source}: {field} {message}");
}
