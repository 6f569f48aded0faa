namespace Generalist.Datasets.Sets;

/// <summary>The target functions an in-context regression sequence can draw (Garg et al. 2022, section 4-5).</summary>
public static class IclFunctionKinds
{
    /// <summary>y = w.x with w ~ N(0, I_d): the dense linear case.</summary>
    public const string Gaussian = "gaussian";
    /// <summary>y = w.x with only <see cref="IclRegressionOptions.SparseNonZero"/> coordinates of w nonzero (N(0, 1)), the rest 0.</summary>
    public const string Sparse = "sparse";
    /// <summary>y = sum_j a_j relu(v_j.x): a 2-layer ReLU network, v_j ~ N(0, I_d), a_j ~ N(0, 1).</summary>
    public const string Relu2 = "relu2";

    public static readonly string[] All = [Gaussian, Sparse, Relu2];
}

/// <summary>
/// Dimension and pairs growing over training (Garg et al. 2022 start at 5 of 20 dimensions and 11
/// of 41 pairs and add 1 and 2 every 2,000 steps). In stage s the sequence uses the first
/// min(d, start_dimension + s * dimension_increment) coordinates of x (the rest are 0) and
/// min(pairs, start_pairs + s * pairs_increment) pairs; stage s covers training steps
/// [s * every_steps, (s + 1) * every_steps). Held-out sequences are always the full task.
/// </summary>
public sealed record IclCurriculum(int StartDimension, int StartPairs, int EverySteps, int DimensionIncrement = 1, int PairsIncrement = 2)
{
    /// <summary>Active (dimension, pairs) in a stage, never beyond the full task.</summary>
    public (int Dimension, int Pairs) At(int stage, IclRegressionOptions full) =>
        (Math.Min(full.Dimension, StartDimension + stage * DimensionIncrement), Math.Min(full.Pairs, StartPairs + stage * PairsIncrement));

    /// <summary>The first stage at which both reach the full task (stages past it are all the same).</summary>
    public int FinalStage(IclRegressionOptions full)
    {
        var d = DimensionIncrement == 0 ? 0 : (full.Dimension - StartDimension + DimensionIncrement - 1) / DimensionIncrement;
        var p = PairsIncrement == 0 ? 0 : (full.Pairs - StartPairs + PairsIncrement - 1) / PairsIncrement;
        return Math.Max(0, Math.Max(d, p));
    }

    /// <summary>Problems with the curriculum against the full task, each naming its field.</summary>
    public IEnumerable<(string Field, string Message)> Problems(IclRegressionOptions full)
    {
        if (StartDimension < 1 || StartDimension > full.Dimension) yield return ("start_dimension", $"must be in [1, dimension = {full.Dimension}] (got {StartDimension})");
        if (StartPairs < 1 || StartPairs > full.Pairs) yield return ("start_pairs", $"must be in [1, pairs = {full.Pairs}] (got {StartPairs})");
        if (EverySteps < 1) yield return ("every_steps", $"must be in [1, 10000000] (got {EverySteps})");
        if (DimensionIncrement is < 0 or > 256) yield return ("dimension_increment", $"must be in [0, 256] (got {DimensionIncrement})");
        if (PairsIncrement is < 0 or > 4096) yield return ("pairs_increment", $"must be in [0, 4096] (got {PairsIncrement})");
        // A curriculum that never reaches the task would train on something other than what is evaluated.
        if (StartDimension < full.Dimension && DimensionIncrement == 0) yield return ("dimension_increment", "must be > 0 when start_dimension is below dimension (the curriculum would never reach the task)");
        if (StartPairs < full.Pairs && PairsIncrement == 0) yield return ("pairs_increment", "must be > 0 when start_pairs is below pairs (the curriculum would never reach the task)");
    }
}

/// <summary>Shape of the in-context regression sequences (run config section <c>icl_regression</c>).</summary>
/// <param name="Dimension">d: length of x (default 8).</param>
/// <param name="Pairs">(x, y) pairs per sequence (default 32: 32 x (8 + 1 + 1) = 320 tokens).</param>
/// <param name="NoiseStd">Standard deviation of Gaussian noise added to f(x) before scaling, in units of f's own standard deviation (default 0: noiseless).</param>
/// <param name="InputScale">x ~ N(0, InputScale^2 I_d) (default 1).</param>
/// <param name="Function">gaussian, sparse or relu2 (<see cref="IclFunctionKinds"/>).</param>
/// <param name="SparseNonZero">Nonzero coordinates of w for "sparse" (default 3, as Garg et al. use 3 of 20).</param>
/// <param name="HiddenUnits">Hidden units of the "relu2" network (default 100, as Garg et al.).</param>
/// <param name="Curriculum">Dimension and pairs growing over training; null = the full task from the start.</param>
public sealed record IclRegressionOptions(
    int Dimension = 8, int Pairs = 32, double NoiseStd = 0.0, double InputScale = 1.0,
    string Function = IclFunctionKinds.Gaussian, int SparseNonZero = 3, int HiddenUnits = 100, IclCurriculum? Curriculum = null)
{
    public const int MaxDimension = 256, MaxPairs = 4096, MaxHiddenUnits = 1024;

    /// <summary>Every problem, each with its field (snake_case, as in the run config) and allowed range.</summary>
    public IReadOnlyList<(string Field, string Message)> Problems()
    {
        var e = new List<(string, string)>();
        if (Dimension is < 1 or > MaxDimension) e.Add(("dimension", $"must be in [1, {MaxDimension}] (got {Dimension})"));
        if (Pairs is < 1 or > MaxPairs) e.Add(("pairs", $"must be in [1, {MaxPairs}] (got {Pairs})"));
        if (!(NoiseStd >= 0 && NoiseStd <= 10)) e.Add(("noise_std", $"must be in [0, 10] (got {NoiseStd})"));
        if (!(InputScale > 0 && InputScale <= 100)) e.Add(("input_scale", $"must be in (0, 100] (got {InputScale})"));
        if (!IclFunctionKinds.All.Contains(Function)) e.Add(("function", $"must be one of {string.Join(", ", IclFunctionKinds.All)} (got '{Function}')"));
        if (SparseNonZero is < 1 or > MaxDimension) e.Add(("sparse_nonzero", $"must be in [1, {MaxDimension}] (got {SparseNonZero})"));
        // Only a sparse task reads it: the default 3 must not refuse a dense task with d < 3.
        else if (Function == IclFunctionKinds.Sparse && SparseNonZero > Dimension) e.Add(("sparse_nonzero", $"must be in [1, dimension = {Dimension}] for function sparse (got {SparseNonZero})"));
        if (HiddenUnits is < 1 or > MaxHiddenUnits) e.Add(("hidden_units", $"must be in [1, {MaxHiddenUnits}] (got {HiddenUnits})"));
        if (Curriculum is { } c && e.Count == 0) e.AddRange(c.Problems(this).Select(p => ($"curriculum.{p.Field}", p.Message)));
        return e;
    }

    public void Validate()
    {
        var problems = Problems();
        if (problems.Count > 0) throw new ArgumentException($"icl_regression.{problems[0].Field}: {problems[0].Message}");
    }

    /// <summary>
    /// The standard deviation of the noiseless f(x) over functions and inputs for an active
    /// dimension: InputScale * sqrt(d) for dense w (E|w|^2 = d), * sqrt(k) for k-sparse w, and
    /// InputScale * sqrt(H d / 2) for the ReLU network (E relu(z)^2 = Var z / 2 for z = v.x).
    /// Targets are f(x) / (3 sigma), so three standard deviations land at +-1 whatever the options.
    /// </summary>
    public double FunctionStd(int activeDimension) => Function switch
    {
        IclFunctionKinds.Sparse => InputScale * Math.Sqrt(Math.Min(SparseNonZero, activeDimension)),
        IclFunctionKinds.Relu2 => InputScale * Math.Sqrt(HiddenUnits * activeDimension / 2.0),
        _ => InputScale * Math.Sqrt(activeDimension),
    };
}
