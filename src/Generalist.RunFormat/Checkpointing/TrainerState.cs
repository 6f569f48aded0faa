using System.Text.Json;
using System.Text.Json.Serialization;

namespace Generalist.RunFormat.Checkpointing;

/// <summary>
/// trainer_state.json of a checkpoint: everything besides the tensors that an exact resume needs,
/// plus what makes the checkpoint auditable (config, code version, checksums of its files).
/// </summary>
public sealed record TrainerState
{
    public const int CurrentFormat = 1;

    /// <summary>Layout version of this file; a reader refuses versions it does not know.</summary>
    [JsonPropertyName("format")] public int Format { get; init; } = CurrentFormat;
    /// <summary>Optimizer steps completed (skipped non-finite steps included: they consumed data).</summary>
    [JsonPropertyName("step")] public long Step { get; init; }
    /// <summary>Updates actually applied (steps minus skipped non-finite ones); AdamW's bias correction counts these.</summary>
    [JsonPropertyName("optimizer_steps")] public long OptimizerSteps { get; init; }
    /// <summary>Tokens fed to the model so far (all positions of every micro-batch).</summary>
    [JsonPropertyName("tokens_seen")] public long TokensSeen { get; init; }
    /// <summary>The data loader's position (its own JSON; the next batch it will produce).</summary>
    [JsonPropertyName("data_cursor")] public JsonElement DataCursor { get; init; }
    /// <summary>RNG states: the torch CPU generator (base64 of its state tensor). The data loader
    /// draws from a counter-based generator keyed by (seed, batch number), so its cursor is its state.</summary>
    [JsonPropertyName("rng")] public RngState Rng { get; init; } = new();
    /// <summary>The resolved run config the checkpoint was trained with.</summary>
    [JsonPropertyName("config")] public RunConfig Config { get; init; } = new();
    /// <summary>Version of the code that wrote it (assembly informational version).</summary>
    [JsonPropertyName("code_version")] public string CodeVersion { get; init; } = "";
    /// <summary>SHA-256 of each safetensors file's data section, by file name; must match the files' own.</summary>
    [JsonPropertyName("checksums")] public Dictionary<string, string> Checksums { get; init; } = [];
    /// <summary>Steps skipped so far because the loss or gradient norm was not finite.</summary>
    [JsonPropertyName("non_finite_steps")] public long NonFiniteSteps { get; init; }
    /// <summary>Loss-spike rollbacks so far.</summary>
    [JsonPropertyName("rollbacks")] public int Rollbacks { get; init; }
    [JsonPropertyName("saved_utc")] public DateTime SavedUtc { get; init; }

    public static readonly JsonSerializerOptions JsonOptions = new()
    {
        WriteIndented = true,
        UnmappedMemberHandling = JsonUnmappedMemberHandling.Disallow,
    };

    public static TrainerState Parse(string json, string source)
    {
        TrainerState? state;
        try
        {
            state = JsonSerializer.Deserialize<TrainerState>(json, JsonOptions);
        }
        catch (JsonException e)
        {
            throw new InvalidDataException($"{source}: invalid trainer state: {e.Message.Split(" Path:")[0]}");
        }
        if (state is null) throw new InvalidDataException($"{source}: empty trainer state");
        // Checkpoints written before the run config had a "model" section were Gato exact.
        if (state.Config is not null && !ConfigHasModelSection(json))
            state = state with { Config = state.Config with { Model = ModelOptions.GatoExact } };
        if (state.Format != CurrentFormat) throw new InvalidDataException($"{source}: trainer state format {state.Format} is not supported (expected {CurrentFormat})");
        if (state.Step < 0 || state.TokensSeen < 0 || state.OptimizerSteps < 0 || state.OptimizerSteps > state.Step)
            throw new InvalidDataException($"{source}: step counters out of range (step {state.Step}, optimizer_steps {state.OptimizerSteps}, tokens_seen {state.TokensSeen})");
        return state;
    }

    public string ToJson() => JsonSerializer.Serialize(this, JsonOptions);

    private static bool ConfigHasModelSection(string json)
    {
        using var doc = JsonDocument.Parse(json);
        return doc.RootElement.TryGetProperty("config", out var config)
            && config.ValueKind == JsonValueKind.Object && config.TryGetProperty("model", out _);
    }
}

public sealed record RngState
{
    /// <summary>torch's default CPU generator state, base64.</summary>
    [JsonPropertyName("torch_cpu")] public string TorchCpu { get; init; } = "";
}
