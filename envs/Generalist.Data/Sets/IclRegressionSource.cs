using Generalist.Tokenizers;

namespace Generalist.Data.Sets;

/// <summary>Shape of the in-context regression sequences.</summary>
/// <param name="Dimension">d: length of x and w (default 8).</param>
/// <param name="Pairs">(x, y) pairs per sequence (default 32: 32 x (8 + 1 + 1) = 320 tokens).</param>
/// <param name="NoiseStd">Standard deviation of Gaussian noise added to w.x before scaling (default 0: noiseless).</param>
public sealed record IclRegressionOptions(int Dimension = 8, int Pairs = 32, double NoiseStd = 0.0)
{
    public void Validate()
    {
        if (Dimension is < 1 or > 256) throw new ArgumentOutOfRangeException(nameof(Dimension), Dimension, "regression dimension must be in [1, 256]");
        if (Pairs is < 1 or > 4096) throw new ArgumentOutOfRangeException(nameof(Pairs), Pairs, "pairs per sequence must be in [1, 4096]");
        if (NoiseStd is < 0 or > 10 || double.IsNaN(NoiseStd)) throw new ArgumentOutOfRangeException(nameof(NoiseStd), NoiseStd, "noise standard deviation must be in [0, 10]");
    }
}

/// <summary>
/// In-context linear regression: sequence i draws a fresh w ~ N(0, I_d), then pairs x_k ~ N(0, I_d),
/// y_k = (w.x_k + noise) / (3 sqrt(d)), clipped to [-1, 1]. Given w, w.x has standard deviation |w|,
/// about sqrt(d), so the scale puts three standard deviations at +-1 and clips ~0.3% of targets;
/// the relation stays linear elsewhere, which keeps least squares a fair baseline. Each timestep's
/// observation is x (continuous) and its action is y (continuous). Sequences are generated on demand
/// from (seed, split, index), so any index is reproducible alone; train and held-out use disjoint
/// seed streams, so no held-out function is ever trained on.
/// </summary>
public sealed class IclRegressionSource : IEpisodeSource
{
    public const string TaskName = "icl-regression";
    /// <summary>Virtual sizes: sequences are generated, so these only bound the index range.</summary>
    public const int TrainCount = 1_000_000, HeldOutCount = 2_000;
    private const ulong TrainStream = 0x7261696E, HeldOutStream = 0x68656C64; // disjoint SplitMix streams

    private readonly long _seed;
    private readonly ulong _stream;
    private readonly IclRegressionOptions _options;

    private IclRegressionSource(long seed, bool heldOut, int count, IclRegressionOptions options)
    {
        options.Validate();
        _seed = seed;
        _stream = heldOut ? HeldOutStream : TrainStream;
        _options = options;
        Count = count;
    }

    public static (IEpisodeSource Train, IEpisodeSource HeldOut) Create(long seed, IclRegressionOptions? options = null)
    {
        options ??= new IclRegressionOptions();
        return (new IclRegressionSource(seed, false, TrainCount, options), new IclRegressionSource(seed, true, HeldOutCount, options));
    }

    public string Task => TaskName;
    public TaskFamily Family => TaskFamily.InContext;
    public int Count { get; }

    /// <summary>The hidden weights of sequence <paramref name="index"/> (for baselines and tests).</summary>
    public double[] Weights(int index) => Generate(index).W;

    public Episode Get(int index) => Generate(index).Episode;

    private (double[] W, Episode Episode) Generate(int index)
    {
        if ((uint)index >= (uint)Count) throw new ArgumentOutOfRangeException(nameof(index), index, $"episode index outside [0, {Count - 1}]");
        var random = SeedMixer.Random(_seed, _stream, index);
        var d = _options.Dimension;
        var w = new double[d];
        for (var j = 0; j < d; j++) w[j] = random.NextGaussian();
        var scale = 1.0 / (3.0 * Math.Sqrt(d));
        var steps = new Timestep[_options.Pairs];
        for (var k = 0; k < steps.Length; k++)
        {
            var x = new float[d];
            var dot = 0.0;
            for (var j = 0; j < d; j++)
            {
                x[j] = (float)random.NextGaussian();
                dot += w[j] * x[j];
            }
            if (_options.NoiseStd > 0) dot += _options.NoiseStd * random.NextGaussian();
            var y = (float)Math.Clamp(dot * scale, -1.0, 1.0);
            steps[k] = new Timestep(new Observation(Continuous: x), ActionValue.OfContinuous(y));
        }
        return (w, new Episode(TaskName, steps));
    }
}
