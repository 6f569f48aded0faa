
using Generalist.Episodes;

namespace Generalist.Envs;

/// <summary>Which array of <see cref="Observation"/> a field is flattened into.</summary>
public enum ObservationPart
{
    Text,
    Image,
    Discrete,
    Continuous,
}

/// <summary>
/// One named observation field. Fields of the same part are concatenated in the order the spec
/// lists them: <see cref="Offset"/> is where this field starts in that part's flat array
/// (row-major for multi-dimensional shapes). Text has an empty shape and no bounds; an image's
/// shape is (height, width, channels) with pixel bounds [0, 255]. Bounds are inclusive;
/// infinities mean unbounded.
/// </summary>
public sealed record ObservationField(
    string Name,
    ObservationPart Part,
    int[] Shape,
    double Low,
    double High,
    int Offset,
    string Description)
{
    public int Length => Part == ObservationPart.Text ? 0 : Shape.Aggregate(1, (a, b) => a * b);
}

/// <summary>
/// The action space: either one discrete value with <see cref="Choices"/> options, or
/// <see cref="Dimensions"/> continuous values, each declared in [-1, 1] (the environment scales
/// them to its physical range).
/// </summary>
public sealed record ActionSpace(bool IsDiscrete, int Choices, int Dimensions, IReadOnlyList<string> Names)
{
    public static ActionSpace Discrete(params string[] choiceNames) => new(true, choiceNames.Length, 1, choiceNames);

    public static ActionSpace Continuous(params string[] dimensionNames) => new(false, 0, dimensionNames.Length, dimensionNames);

    /// <summary>Throws ArgumentException naming the environment and the allowed range when the action does not fit.</summary>
    public void Validate(string env, ActionValue? action)
    {
        if (action is null) throw new ArgumentException($"{env}: action is missing; {Describe()}");
        if (IsDiscrete)
        {
            if (action.Continuous is not null || action.Discrete is not { Length: 1 })
                throw new ArgumentException($"{env}: action must be one discrete value in [0, {Choices}) (got {Show(action)})");
            var a = action.Discrete[0];
            if (a < 0 || a >= Choices)
                throw new ArgumentException($"{env}: action must be one discrete value in [0, {Choices}) (got {a})");
            return;
        }
        if (action.Discrete is not null || action.Continuous is null || action.Continuous.Length != Dimensions)
            throw new ArgumentException($"{env}: action must be {Dimensions} continuous values in [-1, 1] (got {Show(action)})");
        for (var i = 0; i < Dimensions; i++)
        {
            var v = action.Continuous[i];
            if (!float.IsFinite(v) || v < -1f || v > 1f)
                throw new ArgumentException($"{env}: action[{i}] ({Names[i]}) must be in [-1, 1] (got {v})");
        }
    }

    public string Describe() => IsDiscrete
        ? $"one discrete value in [0, {Choices}) ({string.Join(", ", Names.Select((n, i) => $"{i}={n}"))})"
        : $"{Dimensions} continuous values in [-1, 1] ({string.Join(", ", Names)})";

    private static string Show(ActionValue a) =>
        a.Discrete is not null ? $"discrete [{string.Join(", ", a.Discrete)}]"
        : a.Continuous is not null ? $"continuous [{string.Join(", ", a.Continuous)}]"
        : "an empty action";
}

/// <summary>What an environment observes and accepts, and its episode step limit.</summary>
public sealed record EnvSpec(
    string Name,
    string Description,
    IReadOnlyList<ObservationField> Observation,
    ActionSpace Action,
    int MaxSteps)
{
    public int LengthOf(ObservationPart part) => Observation.Where(f => f.Part == part).Sum(f => f.Length);

    public ObservationField Field(string name) =>
        Observation.FirstOrDefault(f => f.Name == name)
        ?? throw new ArgumentException($"{Name}: no observation field '{name}' (fields: {string.Join(", ", Observation.Select(f => f.Name))})");

    /// <summary>Every way the observation breaks this spec (shape, length, bounds); empty when it conforms.</summary>
    public IReadOnlyList<string> Violations(Observation obs)
    {
        var problems = new List<string>();
        var hasText = Observation.Any(f => f.Part == ObservationPart.Text);
        if (hasText != (obs.Text is not null)) problems.Add(hasText ? "text is missing" : "unexpected text");
        var image = Observation.FirstOrDefault(f => f.Part == ObservationPart.Image);
        if (image is null && obs.Image is not null) problems.Add("unexpected image");
        if (image is not null)
        {
            if (obs.Image is null) problems.Add("image is missing");
            else if (obs.Image.Height != image.Shape[0] || obs.Image.Width != image.Shape[1] || obs.Image.Channels != image.Shape[2]
                     || obs.Image.Pixels.Length != image.Length)
                problems.Add($"image is {obs.Image.Height}x{obs.Image.Width}x{obs.Image.Channels}, spec {string.Join("x", image.Shape)}");
        }
        CheckArray(ObservationPart.Discrete, obs.Discrete?.Select(v => (double)v).ToArray(), problems);
        CheckArray(ObservationPart.Continuous, obs.Continuous?.Select(v => (double)v).ToArray(), problems);
        return problems;
    }

    private void CheckArray(ObservationPart part, double[]? values, List<string> problems)
    {
        var expected = LengthOf(part);
        if (expected == 0 && values is null) return;
        if (values is null || values.Length != expected)
        {
            problems.Add($"{part} has {values?.Length ?? 0} values, spec {expected}");
            return;
        }
        foreach (var f in Observation.Where(f => f.Part == part))
            for (var i = 0; i < f.Length; i++)
            {
                var v = values[f.Offset + i];
                // Observations are floats: compare in float precision, so a clamp at -0.07 (double)
                // that rounds to -0.07000000029f still counts as inside.
                if (double.IsNaN(v) || (float)v < (float)f.Low || (float)v > (float)f.High) problems.Add($"{f.Name}[{i}] = {v} outside [{f.Low}, {f.High}]");
            }
    }
}

/// <summary>Builds the fields of a spec, computing each field's offset within its part.</summary>
public sealed class ObservationLayout
{
    private readonly List<ObservationField> fields = [];

    public ObservationLayout Text(string name, string description) =>
        Add(name, ObservationPart.Text, [], double.NaN, double.NaN, description);

    public ObservationLayout Image(string name, int height, int width, int channels, string description) =>
        Add(name, ObservationPart.Image, [height, width, channels], 0, 255, description);

    public ObservationLayout Discrete(string name, int[] shape, int low, int high, string description) =>
        Add(name, ObservationPart.Discrete, shape, low, high, description);

    public ObservationLayout Continuous(string name, double low, double high, string description) =>
        Add(name, ObservationPart.Continuous, [1], low, high, description);

    public ObservationLayout Continuous(string name, int length, double low, double high, string description) =>
        Add(name, ObservationPart.Continuous, [length], low, high, description);

    public IReadOnlyList<ObservationField> Build() => fields.ToArray();

    private ObservationLayout Add(string name, ObservationPart part, int[] shape, double low, double high, string description)
    {
        var offset = fields.Where(f => f.Part == part).Sum(f => f.Length);
        fields.Add(new ObservationField(name, part, shape, low, high, offset, description));
        return this;
    }
}
