using System.Text;
using System.Text.Json.Nodes;
using Generalist.RunFormat;

namespace Generalist.Cli.Commands.Config;

/// <summary>
/// Writes a config as JSON with a // comment above every field: what it does, the rule it must
/// obey and its built-in default. The config readers skip comments, so the output is itself a
/// valid config (`generalist config show > run.json`). Hand-written: System.Text.Json writes
/// no comments.
/// </summary>
internal sealed class CommentedJson(IReadOnlyDictionary<string, FieldDoc> docs, JsonObject defaults, IReadOnlyDictionary<string, string> notes)
{
    private const int Width = 100;
    private readonly StringBuilder _out = new();

    public string Write(JsonObject config, IEnumerable<string> header)
    {
        foreach (var line in header) Comment(line, 0);
        WriteObject(config, "", 0);
        _out.Append('\n');
        return _out.ToString();
    }

    private void WriteObject(JsonObject obj, string prefix, int indent)
    {
        _out.Append("{\n");
        var i = 0;
        foreach (var (key, value) in obj)
        {
            var path = prefix + key;
            if (!docs.TryGetValue(path, out var doc)) throw new InvalidOperationException($"config field '{path}' has no documentation");
            var pad = indent + 2;
            if (i > 0 && value is JsonObject) _out.Append('\n');
            Comment(doc.Description + (notes.TryGetValue(path, out var note) ? " " + note : ""), pad);
            Comment($"Must be {doc.Requirement}." + (value is JsonObject ? "" : $" Default: {Default(path)}."), pad);
            foreach (var element in docs.Values.Where(d => d.Path.StartsWith(path + "[].", StringComparison.Ordinal)))
                Comment($"- {element.Path[(path.Length + 3)..]}: {element.Description} Must be {element.Requirement}.", pad);
            _out.Append(' ', pad).Append('"').Append(key).Append("\": ");
            switch (value)
            {
                case JsonObject child:
                    WriteObject(child, path + ".", pad);
                    break;
                case JsonArray { Count: > 0 } array when array.Any(e => e is JsonObject):
                    _out.Append("[\n");
                    for (var k = 0; k < array.Count; k++)
                        _out.Append(' ', pad + 2).Append(Compact(array[k])).Append(k < array.Count - 1 ? ",\n" : "\n");
                    _out.Append(' ', pad).Append(']');
                    break;
                default:
                    _out.Append(Compact(value));
                    break;
            }
            _out.Append(++i < obj.Count ? ",\n" : "\n");
        }
        _out.Append(' ', indent).Append('}');
    }

    private string Default(string path)
    {
        JsonNode? node = defaults;
        foreach (var part in path.Split('.')) node = node is JsonObject o && o.TryGetPropertyValue(part, out var v) ? v : null;
        return Compact(node);
    }

    private static readonly System.Text.Json.JsonSerializerOptions Relaxed = new() { Encoder = System.Text.Encodings.Web.JavaScriptEncoder.UnsafeRelaxedJsonEscaping };

    /// <summary>One line of JSON with a space after ':' and ',' (outside strings).</summary>
    private static string Compact(JsonNode? node) => node switch
    {
        null => "null",
        JsonObject o => "{" + string.Join(", ", o.Select(kv => $"{JsonValue.Create(kv.Key).ToJsonString(Relaxed)}: {Compact(kv.Value)}")) + "}",
        JsonArray a => "[" + string.Join(", ", a.Select(Compact)) + "]",
        _ => node.ToJsonString(Relaxed),
    };

    /// <summary>A comment wrapped at word boundaries.</summary>
    private void Comment(string text, int indent)
    {
        var line = new StringBuilder();
        foreach (var word in text.Split(' ', StringSplitOptions.RemoveEmptyEntries))
        {
            if (line.Length > 0 && indent + 3 + line.Length + 1 + word.Length > Width)
            {
                _out.Append(' ', indent).Append("// ").Append(line).Append('\n');
                line.Clear();
            }
            if (line.Length > 0) line.Append(' ');
            line.Append(word);
        }
        if (line.Length > 0) _out.Append(' ', indent).Append("// ").Append(line).Append('\n');
    }
}
