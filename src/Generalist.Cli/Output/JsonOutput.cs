using System.Text.Json;
using System.Text.Json.Nodes;
using System.Text.Json.Serialization;
using Google.Protobuf;
using Google.Protobuf.Reflection;

namespace Generalist.Cli.Output;

/// <summary>
/// The JSON every `--json` writes: snake_case keys, and NaN or infinities as null (JSON has no
/// such numbers; "NaN" as a string would turn a number field into text).
/// </summary>
public static class JsonOutput
{
    /// <summary>Writes non-finite doubles as null (the nullable wrapper uses it too).</summary>
    public sealed class FiniteDoubleConverter : JsonConverter<double>
    {
        public override double Read(ref Utf8JsonReader reader, Type typeToConvert, JsonSerializerOptions options) =>
            reader.TokenType == JsonTokenType.Null ? double.NaN : reader.GetDouble();

        public override void Write(Utf8JsonWriter writer, double value, JsonSerializerOptions options)
        {
            if (double.IsFinite(value)) writer.WriteNumberValue(value);
            else writer.WriteNullValue();
        }

        public override bool HandleNull => true;
    }

    public sealed class FiniteSingleConverter : JsonConverter<float>
    {
        public override float Read(ref Utf8JsonReader reader, Type typeToConvert, JsonSerializerOptions options) =>
            reader.TokenType == JsonTokenType.Null ? float.NaN : reader.GetSingle();

        public override void Write(Utf8JsonWriter writer, float value, JsonSerializerOptions options)
        {
            if (float.IsFinite(value)) writer.WriteNumberValue(value);
            else writer.WriteNullValue();
        }

        public override bool HandleNull => true;
    }

    /// <summary>Proto3 JSON keeps the .proto's snake_case names, but writes non-finite doubles as "NaN" strings: those become null here.</summary>
    public static string Format(IMessage message, JsonFormatter formatter)
    {
        var node = JsonNode.Parse(formatter.Format(message))!;
        NullNonFinite(node, message.Descriptor);
        return node.ToJsonString();
    }

    /// <summary>Walks the JSON beside the message descriptor, so only double and float fields change (a string "NaN" stays).</summary>
    private static void NullNonFinite(JsonNode? node, MessageDescriptor descriptor)
    {
        if (node is not JsonObject obj) return;
        foreach (var field in descriptor.Fields.InFieldNumberOrder())
        {
            if (!obj.TryGetPropertyValue(field.Name, out var value) || value is null) continue;
            if (field.IsMap)
            {
                var valueField = field.MessageType.FindFieldByNumber(2);
                if (value is not JsonObject map) continue;
                foreach (var key in map.Select(kv => kv.Key).ToList())
                {
                    if (IsFloating(valueField) && IsNonFiniteText(map[key])) map[key] = null;
                    else if (valueField.FieldType == FieldType.Message) NullNonFinite(map[key], valueField.MessageType);
                }
            }
            else if (field.IsRepeated && value is JsonArray array)
            {
                for (var i = 0; i < array.Count; i++)
                {
                    if (IsFloating(field) && IsNonFiniteText(array[i])) array[i] = null;
                    else if (field.FieldType == FieldType.Message) NullNonFinite(array[i], field.MessageType);
                }
            }
            else if (IsFloating(field) && IsNonFiniteText(value)) obj[field.Name] = null;
            else if (field.FieldType == FieldType.Message && !IsWellKnown(field.MessageType)) NullNonFinite(value, field.MessageType);
        }
    }

    private static bool IsFloating(FieldDescriptor f) => f.FieldType is FieldType.Double or FieldType.Float;

    private static bool IsWellKnown(MessageDescriptor d) => d.File.Package == "google.protobuf";

    private static bool IsNonFiniteText(JsonNode? n) =>
        n is JsonValue v && v.TryGetValue<string>(out var s) && s is "NaN" or "Infinity" or "-Infinity";
}
