
using Generalist.Episodes;

namespace Generalist.Datasets.Sets;

/// <summary>
/// In-context regression: sequence i draws a fresh function f (see <see cref="IclFunctionKinds"/>),
/// pairs x_k ~ N(0, s^2 I_d), y_k = (f(x_k) + noise) / (3 sigma), clipped to [-1, 1], with sigma the
/// standard deviation of f(x) over functions and inputs (<see cref="IclRegressionOptions.FunctionStd"/>):
/// three standard deviations land at +-1 and ~0.3% of targets clip; the relation stays linear
/// elsewhere, which keeps least squares a fair baseline. Each timestep's observation is x
/// (continuous) and its action is y (continuous). Sequences are generated on demand from
/// (seed, split, index[, curriculum stage]), so any index is reproducible alone; train and held-out use
/// disjoint seed streams, so no held-out function is ever trained on.
/// </summary>
public sealed class IclRegressionSource : IStagedEpisodeSource
{
    public const string TaskName = "icl-regression";
    /// <summary>Virtual sizes: sequences are generated, so these only bound the index range.</summary>
    public const int TrainCount = 1_000_000, HeldOutCount = 2_000;
    private const ulong TrainStream = 0x7261696E, HeldOutStream = 0x68656C64; // disjoint SplitMix streams

    private readonly long _seed;
    private readonly ulong _stream;
    private readonly IclRegressionOptions _options;
    // Target scaling comes from the trained task's options, so a shifted evaluation source (x scaled
    // x2, extra noise) keeps the function and its units and only changes the inputs.
    private readonly IclRegressionOptions _scaleFrom;
    private readonly bool _staged;

    private IclRegressionSource(long seed, bool heldOut, int count, IclRegressionOptions options, IclRegressionOptions scaleFrom)
    {
        options.Validate();
        _seed = seed;
        _stream = heldOut ? HeldOutStream : TrainStream;
        _options = options;
        _scaleFrom = scaleFrom;
        // Only training follows the curriculum; held-out sequences are the task as evaluated.
        _staged = !heldOut && options.Curriculum is not null;
        Count = count;
    }

    public static (IEpisodeSource Train, IEpisodeSource HeldOut) Create(long seed, IclRegressionOptions? options = null)
    {
        options ??= new IclRegressionOptions();
        return (new IclRegressionSource(seed, false, TrainCount, options, options), new IclRegressionSource(seed, true, HeldOutCount, options, options));
    }

    /// <summary>
    /// Held-out sequences of the trained task under shifted options (more noise, scaled inputs,
    /// more pairs), with the same functions (same seeds) and the trained task's target units.
    /// </summary>
    public static IclRegressionSource HeldOutShifted(long seed, IclRegressionOptions trained, IclRegressionOptions shifted) =>
        new(seed, true, HeldOutCount, shifted with { Curriculum = null }, trained);

    public string Task => TaskName;
    public TaskFamily Family => TaskFamily.InContext;
    public int Count { get; }
    public IclRegressionOptions Options => _options;

    /// <summary>Stages of the curriculum (1 without one): stage s covers steps [s * every, (s + 1) * every).</summary>
    public int StageCount => _staged ? _options.Curriculum!.FinalStage(_options) + 1 : 1;

    public int StageAt(long step) => _staged ? (int)Math.Min(StageCount - 1, step / _options.Curriculum!.EverySteps) : 0;

    /// <summary>The hidden linear weights of sequence <paramref name="index"/> (gaussian and sparse; for tests).</summary>
    public double[] Weights(int index) => Generate(index, StageCount - 1).F.Linear
        ?? throw new InvalidOperationException($"function '{_options.Function}' has no linear weights");

    public Episode Get(int index) => Generate(index, StageCount - 1).Episode;

    public Episode Get(int index, int stage) => Generate(index, Math.Clamp(stage, 0, StageCount - 1)).Episode;

    private (IclFunction F, Episode Episode) Generate(int index, int stage)
    {
        if ((uint)index >= (uint)Count) throw new ArgumentOutOfRangeException(nameof(index), index, $"episode index outside [0, {Count - 1}]");
        // Stage 0..S draw from separate streams only through the stage's own shape; the final
        // stage uses the plain (seed, split, index) stream, so a curriculum's last stage is the task itself.
        var random = SeedMixer.Random(_seed, _stream + (ulong)(StageCount - 1 - stage) * 0x1000, index);
        var (d, pairs) = _staged ? _options.Curriculum!.At(stage, _options) : (_options.Dimension, _options.Pairs);
        var f = IclFunction.Draw(random, _options, d);
        var sigma = _scaleFrom.FunctionStd(d);
        var scale = 1.0 / (3.0 * sigma);
        var steps = new Timestep[pairs];
        for (var k = 0; k < steps.Length; k++)
        {
            var x = new float[_options.Dimension]; // inactive coordinates stay 0 (Garg et al.'s curriculum)
            for (var j = 0; j < d; j++) x[j] = (float)(_options.InputScale * random.NextGaussian());
            var value = f.Evaluate(x);
            if (_options.NoiseStd > 0) value += _options.NoiseStd * sigma * random.NextGaussian();
            var y = (float)Math.Clamp(value * scale, -1.0, 1.0);
            steps[k] = new Timestep(new Observation(Continuous: x), ActionValue.OfContinuous(y));
        }
        return (f, new Episode(TaskName, steps));
    }
}

/// <summary>One drawn target function: linear weights, or a 2-layer ReLU network.</summary>
internal sealed class IclFunction
{
    public double[]? Linear { get; private init; }
    private double[][]? _hidden; // (H, d)
    private double[]? _output;   // (H)

    public static IclFunction Draw(Random random, IclRegressionOptions options, int d)
    {
        switch (options.Function)
        {
            case IclFunctionKinds.Sparse:
            {
                var w = new double[d];
                for (var j = 0; j < d; j++) w[j] = random.NextGaussian();
                // Keep k coordinates chosen uniformly (partial Fisher-Yates), zero the rest.
                var order = Enumerable.Range(0, d).ToArray();
                var k = Math.Min(options.SparseNonZero, d);
                for (var i = 0; i < k; i++) { var j = i + random.Next(d - i); (order[i], order[j]) = (order[j], order[i]); }
                var keep = order.Take(k).ToHashSet();
                for (var j = 0; j < d; j++) if (!keep.Contains(j)) w[j] = 0;
                return new IclFunction { Linear = w };
            }
            case IclFunctionKinds.Relu2:
            {
                var h = options.HiddenUnits;
                var hidden = new double[h][];
                for (var i = 0; i < h; i++) { hidden[i] = new double[d]; for (var j = 0; j < d; j++) hidden[i][j] = random.NextGaussian(); }
                var output = new double[h];
                for (var i = 0; i < h; i++) output[i] = random.NextGaussian();
                return new IclFunction { _hidden = hidden, _output = output };
            }
            default:
            {
                var w = new double[d];
                for (var j = 0; j < d; j++) w[j] = random.NextGaussian();
                return new IclFunction { Linear = w };
            }
        }
    }

    public double Evaluate(float[] x)
    {
        if (Linear is { } w)
        {
            var dot = 0.0;
            for (var j = 0; j < w.Length; j++) dot += w[j] * x[j];
            return dot;
        }
        var sum = 0.0;
        for (var i = 0; i < _hidden!.Length; i++)
        {
            var z = 0.0;
            for (var j = 0; j < _hidden[i].Length; j++) z += _hidden[i][j] * x[j];
            sum += _output![i] * Math.Max(0, z);
        }
        return sum;
    }
}
