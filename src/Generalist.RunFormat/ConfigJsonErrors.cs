using System.Reflection;
using System.Text.Json;
using System.Text.Json.Serialization;
using System.Text.RegularExpressions;

namespace Generalist.RunFormat;

/// <summary>
/// Turns System.Text.Json's errors into what a person wrote wrong, in the config's own words:
/// "steps: must be a whole number in [1, 10000000]" rather than "could not be converted to
/// System.Int32", "unknown field 'bogus'; known fields: ..." rather than "could not be mapped to
/// any .NET member contained in type 'Generalist.RunFormat.RunConfig'", "line 3, column 7" rather
/// than "LineNumber: 2 | BytePositionInLine: 6". The field's expected kind comes from the config
/// type itself and its range from <see cref="RunConfigFields"/>, so both stay true as fields change.
/// </summary>
public static partial class ConfigJsonErrors
{
    public static ConfigException Describe(JsonException e, string source, Type root, Func<string, string?>? requirementOf = null)
    {
        var path = (e.Path ?? "$").TrimStart('$').TrimStart('.');
        var field = Regex.Replace(path, @"\[\d+\]", "[]");
        var message = e.Message;
        var where = e.LineNumber is { } line ? $" (line {line + 1}, column {(e.BytePositionInLine ?? 0) + 1})" : "";

        var unknown = UnknownProperty().Match(message);
        if (unknown.Success)
        {
            var name = unknown.Groups[1].Value;
            var parent = field.EndsWith(name, StringComparison.Ordinal) ? field[..^name.Length].TrimEnd('.') : field;
            var known = KnownFields(TypeAt(root, parent));
            var full = parent.Length > 0 ? $"{parent}.{name}" : name;
            return new ConfigException(path, $"{source}: unknown field '{full}'{where}; known fields{(parent.Length > 0 ? $" of {parent}" : "")}: {string.Join(", ", known)}");
        }
        if (message.Contains("could not be converted to", StringComparison.Ordinal))
        {
            var type = TypeAt(root, field);
            var rule = requirementOf?.Invoke(field);
            var kind = type is null ? "a value of the field's type" : Kind(type);
            var range = rule is null || rule == kind ? "" : rule.StartsWith("in ", StringComparison.Ordinal) ? " " + rule : $" ({rule})";
            return new ConfigException(path, $"{source}: {(path.Length > 0 ? path : "the config")}: must be {kind}{range}{where}");
        }
        if (message.Contains("Duplicate", StringComparison.OrdinalIgnoreCase))
            return new ConfigException(path, $"{source}: {(path.Length > 0 ? path : "a field")} is given twice{where}; give each field once");
        if (message.Contains("maximum configured depth", StringComparison.Ordinal))
            return new ConfigException(path, $"{source}: nested too deeply{where} (a run config is at most a few levels deep)");
        // Syntax: the reader's own sentence is plain English; drop its position suffix for ours.
        var sentence = PositionSuffix().Replace(message.Split(" Path:")[0], "").TrimEnd(' ', '.');
        return new ConfigException(path, $"{source}: invalid JSON{(path.Length > 0 ? " at " + path : "")}{where}: {sentence}");
    }

    /// <summary>"a whole number", "a number", "true or false", "a string", "a list", "an object".</summary>
    public static string Kind(Type type)
    {
        type = Nullable.GetUnderlyingType(type) ?? type;
        if (type == typeof(int) || type == typeof(long) || type == typeof(short) || type == typeof(uint) || type == typeof(ulong)) return "a whole number";
        if (type == typeof(double) || type == typeof(float) || type == typeof(decimal)) return "a number";
        if (type == typeof(bool)) return "true or false";
        if (type == typeof(string)) return "a string";
        // JSON objects held as dictionaries or JsonObject are enumerable too, but objects to the writer.
        if (type == typeof(System.Text.Json.Nodes.JsonObject) || typeof(System.Collections.IDictionary).IsAssignableFrom(type)
            || type.GetInterfaces().Any(i => i.IsGenericType && i.GetGenericTypeDefinition() == typeof(IReadOnlyDictionary<,>)))
            return "an object";
        if (typeof(System.Collections.IEnumerable).IsAssignableFrom(type)) return "a list";
        return "an object";
    }

    /// <summary>The CLR type at a field path such as "optimizer.learning_rate" or "tasks[].weight"; null when unknown.</summary>
    public static Type? TypeAt(Type root, string field)
    {
        var type = root;
        if (field.Length == 0) return type;
        foreach (var part in field.Split('.'))
        {
            var name = part.EndsWith("[]", StringComparison.Ordinal) ? part[..^2] : part;
            var property = JsonProperties(type).FirstOrDefault(p => p.Name == name).Property;
            if (property is null) return null;
            type = property.PropertyType;
            if (part.EndsWith("[]", StringComparison.Ordinal)) type = ElementType(type) ?? type;
        }
        return type;
    }

    private static Type? ElementType(Type list) =>
        list.IsArray ? list.GetElementType() : list.GetInterfaces().Append(list)
            .FirstOrDefault(i => i.IsGenericType && i.GetGenericTypeDefinition() == typeof(IEnumerable<>))?.GetGenericArguments()[0];

    private static IReadOnlyList<string> KnownFields(Type? type) =>
        type is null ? [] : JsonProperties(type).Select(p => p.Name).ToList();

    private static IEnumerable<(string Name, PropertyInfo Property)> JsonProperties(Type type) =>
        type.GetProperties(BindingFlags.Public | BindingFlags.Instance)
            .Where(p => p.GetCustomAttribute<JsonIgnoreAttribute>() is null)
            .Select(p => (p.GetCustomAttribute<JsonPropertyNameAttribute>()?.Name ?? p.Name, p));

    [GeneratedRegex(@"The JSON property '([^']*)' could not be mapped")]
    private static partial Regex UnknownProperty();

    [GeneratedRegex(@"\s*LineNumber: \d+ \| BytePositionInLine: \d+\.?")]
    private static partial Regex PositionSuffix();
}
