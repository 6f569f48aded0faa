using System.Text;
using System.Text.Json.Nodes;
using Generalist.Training.Tests;
using Generalist.RunFormat;
using Generalist.TestSupport;

namespace Generalist.Reliability.Tests;

/// <summary>Scenario 6, run configs: JSON mutations are refused with a ConfigException naming the field.</summary>
public partial class Scenario06MalformedInput
{
    [Theory]
    [InlineData("""{"tasks": null}""", "tasks")]
    [InlineData("""{"tasks": [null]}""", "tasks[0]")]
    [InlineData("""{"tasks": [{"weight": 1}]}""", "tasks[0].name")]
    [InlineData("""{"optimizer": null}""", "optimizer")]
    [InlineData("""{"name": null}""", "name")]
    [InlineData("""{"steps": 1e400}""", "steps")]
    [InlineData("""{"steps": 99999999999999999999}""", "steps")]
    [InlineData("""{"steps": "12"}""", "steps")]
    [InlineData("""{"seed": 1.5}""", "seed")]
    [InlineData("""{"checkpoint": {"every": true}}""", "checkpoint.every")]
    [InlineData("""{"spike": [1, 2]}""", "spike")]
    [InlineData("""{"surprise": 1}""", "surprise")]
    [InlineData("""{"steps": 5, "steps": 6}""", "steps")]
    public void Hostile_config_values_are_refused_naming_the_field(string json, string field)
    {
        var e = Assert.Throws<ConfigException>(() => RunConfig.Parse(json));
        Assert.True(e.Field == field || e.Message.Contains(field, StringComparison.Ordinal), $"field '{e.Field}': {e.Message}");
    }

    [Fact]
    public void Deep_nesting_and_huge_configs_are_refused_in_bounded_time()
    {
        var deep = """{"spike": """ + new string('[', 100_000) + new string(']', 100_000) + "}";
        var e = Assert.Throws<ConfigException>(() => RunConfig.Parse(deep));
        Assert.Contains("spike: must be an object", e.Message); // refused at the first '[', never read deeper
        // A lone UTF-16 surrogate, raw and escaped: not text, so not a config.
        Assert.Throws<ConfigException>(() => RunConfig.Parse("{\"name\": \"a\uD800\"}"));
        Assert.Throws<ConfigException>(() => RunConfig.Parse("{\"name\": \"a\\uD800\"}"));
        using var dir = new TempDir();
        var big = dir.File("big.json");
        File.WriteAllText(big, "{\"name\": \"" + new string('a', 2 << 20) + "\"}");
        Assert.Contains("at most 1 MiB", Assert.Throws<ConfigException>(() => RunConfig.Load(big)).Message);
    }

    [Fact]
    public void RunConfig_fuzz_bounded() => FuzzRunConfigs(seed: 7, TimeSpan.FromSeconds(3), maxCases: 20_000);

    [Fact]
    [Trait("Category", "Slow")]
    public void RunConfig_fuzz_long() => FuzzRunConfigs(seed: 70707, TimeSpan.FromSeconds(60), maxCases: 2_000_000);

    /// <summary>A config with every section present, so mutations reach every field.</summary>
    private static readonly string ValidConfig = new RunConfig
    {
        Name = "fuzz", Tasks = [new("cartpole", 2), new("text")], Steps = 100,
        Checkpoint = new CheckpointConfig { Every = 10 }, Spike = new SpikeConfig { SkipSteps = 5 },
    }.ToJson();

    /// <summary>
    /// Byte-level mutations (random bytes, deletions, duplications, truncation) through RunConfig.Load
    /// (a file, as `generalist train --config` reads it) and structural mutations (wrong types, huge and
    /// non-integral numbers, deep nesting, unknown fields, nulls, removed fields) through RunConfig.Parse.
    /// Every case ends as a valid config or a ConfigException; nothing else.
    /// </summary>
    private void FuzzRunConfigs(int seed, TimeSpan budget, int maxCases)
    {
        using var dir = new TempDir();
        var file = dir.File("config.json");
        var rng = new Random(seed);
        var tally = new FuzzTally("run config", seed);
        var good = Encoding.UTF8.GetBytes(ValidConfig);
        var root = JsonNode.Parse(ValidConfig)!;
        while (tally.KeepGoing(budget, maxCases))
        {
            string described;
            Action attempt;
            if (rng.Next(3) == 0)
            {
                var bytes = MutateBytes(good, rng);
                File.WriteAllBytes(file, bytes);
                described = "bytes: " + Convert.ToBase64String(bytes);
                attempt = () => Accept(RunConfig.Load(file));
            }
            else
            {
                var json = MutateStructure(root, rng);
                described = json.Length > 2000 ? json[..2000] + "..." : json;
                attempt = () => Accept(RunConfig.Parse(json));
            }
            tally.Case<ConfigException>(attempt, Kind, () => described);
        }
        tally.Report(new Figures(output, "6"));
        Assert.True(tally.Rejected.Values.Sum() > tally.Cases / 2, $"only {tally.Rejected.Values.Sum()} of {tally.Cases} mutated configs were refused");
        Assert.True(tally.MaxCaseBytes < 64L << 20, $"one case allocated {tally.MaxCaseBytes} bytes");
    }

    /// <summary>An accepted config must really be valid and survive a round trip.</summary>
    private static void Accept(RunConfig config)
    {
        Assert.Empty(config.Validate());
        Assert.Equal(config.ToJson(), RunConfig.Parse(config.ToJson()).ToJson());
    }

    /// <summary>Rejections grouped by what was wrong: the JSON text, a value's type, an unknown or repeated field, or a value out of range.</summary>
    private static string Kind(ConfigException e)
    {
        var m = e.Message;
        if (m.Contains("unknown field", StringComparison.Ordinal)) return "unknown field";
        if (m.Contains("is given twice", StringComparison.Ordinal)) return "duplicate field";
        if (m.Contains("nested too deeply", StringComparison.Ordinal)) return "nesting deeper than 64";
        if (m.Contains("(line ", StringComparison.Ordinal) && m.Contains(": must be ", StringComparison.Ordinal)) return "wrong JSON type or number out of range for the field";
        if (m.Contains("surrogate", StringComparison.Ordinal)) return "text that is not valid UTF-16";
        if (m.Contains("invalid JSON", StringComparison.Ordinal)) return "JSON syntax";
        var section = e.Field.Split('.', '[')[0];
        return $"invalid value, {section}{(e.Field.Length > section.Length ? ".*" : "")}";
    }

    private static byte[] MutateBytes(byte[] good, Random rng)
    {
        var bytes = new List<byte>(good);
        for (var k = rng.Next(1, 5); k > 0 && bytes.Count > 0; k--)
        {
            var at = rng.Next(bytes.Count);
            switch (rng.Next(4))
            {
                case 0: bytes[at] = (byte)rng.Next(256); break;
                case 1: bytes.RemoveRange(at, Math.Min(rng.Next(1, 8), bytes.Count - at)); break;
                case 2: bytes.InsertRange(at, bytes.GetRange(at, Math.Min(rng.Next(1, 16), bytes.Count - at))); break;
                default: bytes.RemoveRange(at, bytes.Count - at); break;
            }
        }
        return [.. bytes];
    }

    private static string MutateStructure(JsonNode original, Random rng)
    {
        var root = original.DeepClone();
        // Pick a random object or array inside the config, then change one of its members.
        var containers = new List<JsonNode>();
        void Collect(JsonNode? n)
        {
            if (n is JsonObject o) { containers.Add(o); foreach (var (_, v) in o) Collect(v); }
            else if (n is JsonArray a) { containers.Add(a); foreach (var v in a) Collect(v); }
        }
        Collect(root);
        var target = containers[rng.Next(containers.Count)];
        for (var k = rng.Next(1, 3); k > 0; k--)
        {
            var value = Hostile(rng);
            switch (target)
            {
                case JsonObject o when rng.Next(5) == 0:
                    o[$"unknown_{rng.Next(100)}"] = value; // unknown field
                    break;
                case JsonObject o when o.Count > 0 && rng.Next(6) == 0:
                    o.Remove(o.ElementAt(rng.Next(o.Count)).Key); // a missing field takes its default
                    break;
                case JsonObject o when o.Count > 0:
                    o[o.ElementAt(rng.Next(o.Count)).Key] = value;
                    break;
                case JsonArray a when a.Count > 0 && rng.Next(3) > 0:
                    a[rng.Next(a.Count)] = value;
                    break;
                case JsonArray a:
                    a.Add(value);
                    break;
            }
        }
        var json = root.ToJsonString();
        // Nesting deeper than any parser limit is text, not a node tree.
        if (rng.Next(20) == 0 && json.IndexOf(',', StringComparison.Ordinal) > json.IndexOf(':', StringComparison.Ordinal))
        {
            var depth = rng.Next(50, 5000);
            var at = json.IndexOf(':', StringComparison.Ordinal) + 1;
            json = json[..at] + new string('[', depth) + "1" + new string(']', depth) + json[json.IndexOf(',', at)..];
        }
        return json;
    }

    private static JsonNode? Hostile(Random rng) => rng.Next(16) switch
    {
        0 => null,
        1 => JsonValue.Create(true),
        2 => JsonValue.Create("hostile\u0000\u00e9\U0001F600"),
        3 => JsonValue.Create(long.MaxValue),
        4 => JsonValue.Create(-1),
        5 => JsonValue.Create(0),
        6 => JsonValue.Create(1e308),
        7 => JsonValue.Create(-1e-308),
        8 => JsonValue.Create(2.5),
        9 => JsonValue.Create(ulong.MaxValue),
        10 => new JsonArray(JsonValue.Create(1), null, JsonValue.Create("x")),
        11 => new JsonObject { ["name"] = JsonValue.Create("t"), ["weight"] = JsonValue.Create(-3) },
        12 => JsonValue.Create(new string('x', rng.Next(1, 5000))),
        13 => JsonValue.Create(int.MinValue),
        14 => new JsonObject(),
        _ => JsonValue.Create(rng.Next(0, 100_000)),
    };
}
