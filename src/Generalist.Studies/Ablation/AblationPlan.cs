using System.Reflection;
using System.Text.Json.Nodes;
using System.Text.Json.Serialization;
using Generalist.RunFormat;

namespace Generalist.Studies.Ablation;

/// <summary>
/// One resolved ablation variant: its overrides, the base run config with them merged in (validated
/// by the trainer's own parser) and what it changes relative to Gato in plain words.
/// </summary>
/// <param name="Merged">Base with the overrides merged in, as JSON (what <see cref="Config"/> was parsed from).</param>
public sealed record AblationVariant(string Name, JsonObject Overrides, JsonObject Merged, RunConfig Config, string Description)
{
    /// <summary>The merged config's action_noise: null = each task's default, 0 = off.</summary>
    public double? ActionNoise => Config.ActionNoise;

    /// <summary>The sub-run of this variant for one training seed.</summary>
    public string RunName(long seed) => AblationPlan.RunName(Name, seed);

    /// <summary>The config of one sub-run as the study asks for it: the merged JSON with the sub-run's name and seed (recorded beside the run to detect a changed variant on resume).</summary>
    public JsonObject SubRunJson(long seed)
    {
        var json = (JsonObject)Merged.DeepClone();
        json["name"] = RunName(seed);
        json["seed"] = seed;
        return json;
    }
}

/// <summary>
/// Builds the variants of an ablation study: <c>ablation.variants</c> (or the default ladder when
/// it is empty), each one's overrides deep-merged onto <c>base</c> (<see cref="Merge"/>) and the
/// result parsed by <see cref="RunConfig.Parse"/>, so a variant is exactly a config `generalist
/// train` accepts. Errors name the field as <c>ablation.variants[i].overrides.FIELD</c>.
/// </summary>
public static class AblationPlan
{
    public const string Role = "ablation";
    public const string ActionNoiseField = "action_noise";

    /// <summary>Fields a variant may not override: the study sets them per sub-run.</summary>
    private static readonly Dictionary<string, string> StudyOwned = new()
    {
        ["name"] = "the study names every sub-run VARIANT-seedN",
        ["seed"] = "the study sets it from ablation.seeds",
    };

    /// <summary>The top-level JSON field names of the run config, read from its own attributes.</summary>
    public static IReadOnlySet<string> RunConfigFields { get; } = typeof(RunConfig).GetProperties(BindingFlags.Public | BindingFlags.Instance)
        .Select(p => p.GetCustomAttribute<JsonPropertyNameAttribute>()?.Name).OfType<string>().ToHashSet(StringComparer.Ordinal);

    public static string RunName(string variant, long seed) => $"{variant}-seed{seed}";

    /// <summary>
    /// The default ladder: from Gato exact, add one of this project's departures at a time, then all
    /// of them (the base config as given).
    /// </summary>
    public static IReadOnlyList<(string Name, JsonObject Overrides)> DefaultLadder()
    {
        JsonObject Model(string valueEmbedding, string positions, bool noiseOff) => new()
        {
            ["model"] = new JsonObject { ["value_embedding"] = valueEmbedding, ["attention_positions"] = positions },
            [ActionNoiseField] = noiseOff ? JsonValue.Create(0.0) : null,
        };
        return
        [
            ("gato-exact", Model("none", "none", noiseOff: true)),
            ("plus-value-embedding", Model("fourier", "none", noiseOff: true)),
            ("plus-rope", Model("none", "rope", noiseOff: true)),
            ("plus-state-noise", Model("none", "none", noiseOff: false)),
            ("default", new JsonObject()),
        ];
    }

    /// <summary>
    /// Deep merge (a copy; neither input changes): an object in the overrides merges into the
    /// base's object of the same name field by field; any other value (a number, a string, an
    /// array such as tasks, or null) replaces the base's. A null is kept as null, so
    /// <c>"action_noise": null</c> asks for the per-task default and <c>"model": null</c> is refused
    /// by the run config's own validation.
    /// </summary>
    public static JsonObject Merge(JsonObject baseConfig, JsonObject? overrides)
    {
        var merged = (JsonObject)baseConfig.DeepClone();
        if (overrides is not null) MergeInto(merged, overrides);
        return merged;
    }

    private static void MergeInto(JsonObject target, JsonObject patch)
    {
        foreach (var (key, value) in patch)
        {
            if (value is JsonObject child && target[key] is JsonObject existing) MergeInto(existing, child);
            else target[key] = value?.DeepClone();
        }
    }

    /// <summary>Every variant merged and validated, or the errors (field, message) in order.</summary>
    public static (IReadOnlyList<AblationVariant> Variants, IReadOnlyList<ConfigError> Errors) Resolve(JsonObject baseConfig, AblationConfig ablation)
    {
        var errors = new List<ConfigError>();
        var variants = new List<AblationVariant>();
        var seeds = ablation.Seeds ?? [];
        if (ablation.Seeds is not null && seeds.Count == 0) errors.Add(new("ablation.seeds", "must list at least one seed"));
        foreach (var s in seeds.Where(s => s < 0)) errors.Add(new("ablation.seeds", $"every seed must be >= 0 (got {s})"));
        foreach (var dup in seeds.GroupBy(s => s).Where(g => g.Count() > 1)) errors.Add(new("ablation.seeds", $"seed {dup.Key} is listed twice"));
        var longestSuffix = seeds.Count == 0 ? 0 : seeds.Max(s => RunName("", s).Length);

        var given = ablation.Variants ?? [];
        var fromLadder = given.Count == 0;
        List<(string Field, string? Name, JsonObject Overrides, int Index)> entries = fromLadder
            ? [.. DefaultLadder().Select((v, i) => ($"ablation.variants (default ladder: {v.Name})", (string?)v.Name, v.Overrides, i))]
            : [.. given.Select((v, i) => ($"ablation.variants[{i}]", v?.Name, v?.Overrides ?? new JsonObject(), i))];
        var seen = new Dictionary<string, int>(StringComparer.OrdinalIgnoreCase);
        foreach (var (field, name, overrides, index) in entries)
        {
            if (!fromLadder && given[index] is null)
            {
                errors.Add(new(field, "must be an object {\"name\": ..., \"overrides\": {...}}, not null"));
                continue;
            }
            if (!RunNames.IsValid(name)) errors.Add(new($"{field}.name", "variant names " + RunNames.Rule + $" (got '{name}')"));
            else if (name!.Length + longestSuffix > 64)
                errors.Add(new($"{field}.name", $"at most {64 - longestSuffix} characters, so that the sub-run name '{name}-seedN' stays within 64 (got {name.Length})"));
            else if (seen.TryGetValue(name, out var first))
                errors.Add(new($"{field}.name", $"'{name}' is already the name of ablation.variants[{first}] (variant names must be unique, ignoring case)"));
            else seen[name] = index;

            var before = errors.Count;
            foreach (var key in overrides.Select(kv => kv.Key))
            {
                if (StudyOwned.TryGetValue(key, out var why)) errors.Add(new($"{field}.overrides.{key}", $"cannot be overridden: {why}"));
                else if (!RunConfigFields.Contains(key))
                    errors.Add(new($"{field}.overrides.{key}", $"not a run config field (the fields: {string.Join(", ", RunConfigFields.Order(StringComparer.Ordinal))})"));
            }
            if (errors.Count > before) continue;
            var merged = Merge(baseConfig, overrides);
            RunConfig config;
            try
            {
                config = RunConfig.Parse(merged.ToJsonString(), Source);
            }
            catch (ConfigException e)
            {
                errors.Add(OverrideError(field, overrides, e));
                continue;
            }
            variants.Add(new AblationVariant(name ?? "", (JsonObject)overrides.DeepClone(), merged, config, Describe(config, overrides)));
        }
        return (errors.Count == 0 ? variants : [], errors);
    }

    private const string Source = "\u0001merged";

    /// <summary>The run config's own message, re-addressed to the variant's overrides (or to the merged config when the field is not overridden).</summary>
    private static ConfigError OverrideError(string variantField, JsonObject overrides, ConfigException e)
    {
        var message = e.Message;
        foreach (var prefix in new[] { $"{Source}: {e.Field}: ", $"{Source}: " })
            if (message.StartsWith(prefix, StringComparison.Ordinal)) { message = message[prefix.Length..]; break; }
        // Lines and columns of the merged text, which nobody wrote, would only mislead.
        message = System.Text.RegularExpressions.Regex.Replace(message, @" \(line \d+, column \d+\)", "");
        // The run config's words ("unknown field 'model.bogus' (line 1, column 9); known fields of model: ...") name
        // positions in the merged text the user never wrote: say it in terms of the overrides.
        if (message.StartsWith("unknown field '", StringComparison.Ordinal))
        {
            var known = message.IndexOf("; known fields", StringComparison.Ordinal);
            message = $"not a run config field (under {(e.Field.Contains('.') ? e.Field[..e.Field.LastIndexOf('.')] : "the top level")})" +
                      (known >= 0 ? message[known..] : "");
        }
        var top = e.Field.Split('.', '[')[0];
        if (e.Field.Length == 0) return new($"{variantField}.overrides", message);
        return overrides.ContainsKey(top)
            ? new($"{variantField}.overrides.{e.Field}", message)
            : new($"{variantField}.overrides", $"the merged run config's {e.Field} {message}");
    }

    /// <summary>What the variant changes relative to Gato, in plain words.</summary>
    public static string Describe(RunConfig config, JsonObject overrides)
    {
        var actionNoise = config.ActionNoise;
        var parts = new List<string>();
        var gato = new List<string>();
        if (config.Model.ValueEmbedding == "fourier")
            parts.Add("adds the Fourier value embedding (each continuous-value token also gets a learned map of smooth features of its bin centre, so neighbouring bins embed nearby; Gato gives every bin its own independent row)");
        else gato.Add("Gato's value embedding (one independent row per continuous bin)");
        if (config.Model.AttentionPositions == "rope")
            parts.Add("adds rotary relative positions in attention (Gato has only the learned local observation positions, so attention cannot tell the current timestep's values from earlier ones)");
        else gato.Add("Gato's positions (learned local observation positions only)");
        if (actionNoise is null)
            parts.Add("collects the control tasks' expert data with each task's default DART noise (envs/DATA.md: some executed actions are perturbed and the expert shows how to recover; the perturbed actions carry no loss; Gato trains on clean expert data)");
        else if (actionNoise == 0) gato.Add("clean expert data (action_noise 0)");
        else parts.Add($"collects the expert data with DART noise, perturbation probability {actionNoise} per step (Gato: clean expert data)");
        var text = parts.Count == 0 ? "Gato exact: " + string.Join(", ", gato) + "." :
            char.ToUpperInvariant(parts[0][0]) + string.Join("; ", parts)[1..] + (gato.Count > 0 ? "; keeps " + string.Join(", ", gato) + "." : ".");
        var other = overrides.Select(kv => kv.Key).Where(k => k is not "model" and not ActionNoiseField).ToList();
        if (other.Count > 0) text += $" Also overrides {string.Join(", ", other)} relative to base.";
        return text;
    }
}
