using Generalist.Evaluation.Scoring;
using Generalist.Evaluation.Statistics;
using Generalist.Model;
using Generalist.Tokenizers;
using static TorchSharp.torch;
using Generalist.Episodes;

namespace Generalist.Evaluation.InContext;

/// <summary>R^2 of one probe (a target read linearly from one layer) on held-out prompts, and the same probe on the random-init control.</summary>
public sealed record ProbeResult(string Target, int Layer, double R2, double ControlR2);

/// <summary>Every probe of one checkpoint. Layer 0 is the embedding, layer l the output of block l.</summary>
public sealed record ProbeReport(IReadOnlyList<string> Targets, int Layers, int TrainPrompts, int TestPrompts, int TrainRows, int TestRows,
    double Ridge, long ControlSeed, IReadOnlyList<ProbeResult> Results);

/// <summary>Probe settings.</summary>
/// <param name="TrainFraction">Prompts whose rows fit the probes; the rest (other functions) score them.</param>
/// <param name="Ridge">Probe ridge strength per training row (on standardized features), so it does not grow with the data.</param>
/// <param name="TargetRidge">The lambda of the "ridge" target (the in-context ridge solution the probe looks for).</param>
/// <param name="GdSteps">Gradient-descent iterates probed (with the step sizes tuned by the behaviour analysis).</param>
/// <param name="ControlSeed">Seed of the randomly initialised model of the same shape (the control).</param>
public sealed record ProbeOptions(double TrainFraction = 0.7, double Ridge = 1e-3, double TargetRidge = 0.1, long ControlSeed = 4242)
{
    public IReadOnlyList<int> GdSteps { get; init; } = [1, 2, 3];
}

/// <summary>
/// Probes like Akyürek et al. (2022): at the position whose output predicts y_k (the separator after
/// x_k), a ridge regression from each layer's residual stream to quantities an in-context learner
/// would compute from the k pairs before it: the least-squares weights w_OLS, X^T y, the ridge
/// solution and the gradient-descent iterates. Fitted on the rows of some prompts, scored (R^2,
/// pooled over the target's coordinates) on the rows of other prompts, so a probe cannot memorise
/// functions. The same probes on a randomly initialised model of the same shape say how much is
/// decodable from the inputs alone.
/// </summary>
public static class IclProbes
{
    public const string WOls = "w_ols", XTy = "xty", RidgeTarget = "ridge";

    public static ProbeReport Run(GeneralistModel model, SequenceBuilder builder, IReadOnlyList<Episode> prompts,
        IReadOnlyDictionary<string, double> gdStepSizes, ProbeOptions options, int batchSize, Device device)
    {
        if (prompts.Count < 4) throw new ArgumentException($"probes need at least 4 prompts (got {prompts.Count})");
        if (!(options.Ridge > 0)) throw new ArgumentException($"probe ridge must be > 0 (got {options.Ridge})");
        if (!(options.TrainFraction > 0 && options.TrainFraction < 1)) throw new ArgumentException($"probe train fraction must be in (0, 1) (got {options.TrainFraction})");
        var sequences = prompts.Select(IclRegressionEvaluation.ToSequence).ToList();
        var targets = Targets(sequences, gdStepSizes, options);
        var split = Math.Clamp((int)Math.Round(prompts.Count * options.TrainFraction), 2, prompts.Count - 2);
        var trained = Capture(model, builder, prompts, batchSize, device);
        using var control = new GeneralistModel(model.Config, options.ControlSeed);
        var random = Capture(control, builder, prompts, batchSize, CPU); // the control is built on the CPU
        var results = new List<ProbeResult>();
        var trainRows = 0;
        var testRows = 0;
        for (var layer = 0; layer < trained.Length; layer++)
            foreach (var (name, values) in targets)
            {
                var (r2, nTrain, nTest) = Fit(trained[layer], values, split, options.Ridge);
                var (controlR2, _, _) = Fit(random[layer], values, split, options.Ridge);
                results.Add(new ProbeResult(name, layer, r2, controlR2));
                (trainRows, testRows) = (nTrain, nTest);
            }
        return new ProbeReport(targets.Select(t => t.Name).ToList(), trained.Length, split, prompts.Count - split, trainRows, testRows,
            options.Ridge, options.ControlSeed, results);
    }

    /// <summary>targets[name][prompt][k] (null for k = 0: nothing to fit yet).</summary>
    public static List<(string Name, double[]?[][] Values)> Targets(IReadOnlyList<RegressionSequence> prompts, IReadOnlyDictionary<string, double> gdStepSizes, ProbeOptions options)
    {
        double[]?[][] Each(Func<double[][], double[], int, double[]> compute) => prompts.Select(p =>
            Enumerable.Range(0, p.Length).Select(k => k == 0 ? null : compute(p.X[..k], p.Y[..k], p.Dimension)).ToArray()).ToArray();
        var list = new List<(string Name, double[]?[][] Values)>
        {
            (WOls, Each((xs, ys, _) => DenseLinearAlgebra.LeastSquares(ToMatrix(xs), ys))),
            (XTy, Each((xs, ys, d) => Enumerable.Range(0, d).Select(j => xs.Select((x, i) => x[j] * ys[i]).Sum()).ToArray())),
            (RidgeTarget, Each((xs, ys, _) => DenseLinearAlgebra.LeastSquares(ToMatrix(xs), ys, options.TargetRidge))),
        };
        foreach (var steps in options.GdSteps)
            if (gdStepSizes.TryGetValue(IclAlgorithms.GdName(steps), out var eta))
                list.Add(($"{IclAlgorithms.GdName(steps)}_w", Each((xs, ys, d) => IclAlgorithms.GradientDescentWeights(xs, ys, d, steps, eta))));
        return list;
    }

    private static double[,] ToMatrix(double[][] xs)
    {
        var m = new double[xs.Length, xs.Length == 0 ? 0 : xs[0].Length];
        for (var i = 0; i < xs.Length; i++) for (var j = 0; j < xs[i].Length; j++) m[i, j] = xs[i][j];
        return m;
    }

    /// <summary>
    /// features[layer][prompt][k]: the residual stream (C floats) at the separator of pair k, the
    /// position whose output predicts y_k. Every prompt must fit in the context whole.
    /// </summary>
    public static float[][][][] Capture(GeneralistModel model, SequenceBuilder builder, IReadOnlyList<Episode> prompts, int batchSize, Device device)
    {
        var sequences = prompts.Select(e => builder.Build(e)).ToList();
        var layers = model.Config.Layers + 1;
        var c = model.Config.ModelDim;
        var result = new float[layers][][][];
        for (var l = 0; l < layers; l++) result[l] = new float[sequences.Count][][];
        model.eval();
        for (var b0 = 0; b0 < sequences.Count; b0 += batchSize)
        {
            var rows = sequences.Skip(b0).Take(batchSize).ToList();
            var t = rows.Max(s => s.Length);
            if (t > model.Config.ContextLength)
                throw new ArgumentException($"a probe prompt of {t} tokens does not fit the model's context of {model.Config.ContextLength}; use fewer pairs");
            using var scope = NewDisposeScope();
            using var _ = no_grad();
            using var inputs = WindowInputs.Create(rows.Select(s => (s, 0, s.Length)).ToList(), t, model.Config, device);
            var streams = model.ResidualStreams(inputs);                                      // (L + 1) x (B, T, C)
            for (var l = 0; l < layers; l++)
            {
                var flat = streams[l].to(ScalarType.Float32).contiguous().cpu().data<float>().ToArray(); // B * T * C
                for (var r = 0; r < rows.Count; r++)
                    result[l][b0 + r] = SequenceMetrics.FirstActionPositions(rows[r])
                        .Select(j => flat.AsSpan((r * t + j - 1) * c, c).ToArray()).ToArray();
            }
        }
        return result;
    }

    /// <summary>
    /// Ridge probe from features to one target (rows: every (prompt, k &gt;= 1)); prompts [0, split)
    /// fit, the rest score. Features are standardized with the fitting rows' statistics; the R^2 is
    /// pooled over the target's coordinates, against the scored rows' own mean.
    /// </summary>
    public static (double R2, int TrainRows, int TestRows) Fit(float[][][] features, double[]?[][] targets, int split, double ridge)
    {
        var train = new List<(float[] X, double[] Y)>();
        var test = new List<(float[] X, double[] Y)>();
        for (var p = 0; p < targets.Length; p++)
            for (var k = 0; k < targets[p].Length && k < features[p].Length; k++)
                if (targets[p][k] is { } y) (p < split ? train : test).Add((features[p][k], y));
        if (train.Count < 2 || test.Count < 2) return (double.NaN, train.Count, test.Count);
        var c = train[0].X.Length;
        var m = train[0].Y.Length;
        var mean = new double[c];
        var std = new double[c];
        foreach (var (x, _) in train) for (var j = 0; j < c; j++) mean[j] += x[j];
        for (var j = 0; j < c; j++) mean[j] /= train.Count;
        foreach (var (x, _) in train) for (var j = 0; j < c; j++) std[j] += (x[j] - mean[j]) * (x[j] - mean[j]);
        // A constant feature (std 0) is left at 0 after centring instead of dividing by 0.
        for (var j = 0; j < c; j++)
        {
            var sd = Math.Sqrt(std[j] / train.Count);
            std[j] = sd > 1e-12 ? sd : 1;
        }
        var yMean = new double[m];
        foreach (var (_, y) in train) for (var i = 0; i < m; i++) yMean[i] += y[i];
        for (var i = 0; i < m; i++) yMean[i] /= train.Count;
        double[] Standardize(float[] x) { var z = new double[c]; for (var j = 0; j < c; j++) z[j] = (x[j] - mean[j]) / std[j]; return z; }
        var zTrain = train.Select(r => Standardize(r.X)).ToList();
        var gram = new double[c, c];
        foreach (var z in zTrain)
            for (var a = 0; a < c; a++)
            {
                if (z[a] == 0) continue;
                for (var b = 0; b < c; b++) gram[a, b] += z[a] * z[b];
            }
        for (var a = 0; a < c; a++) gram[a, a] += ridge * train.Count;
        var weights = new double[m][];
        for (var i = 0; i < m; i++)
        {
            var rhs = new double[c];
            for (var r = 0; r < zTrain.Count; r++)
            {
                var dy = train[r].Y[i] - yMean[i];
                for (var a = 0; a < c; a++) rhs[a] += zTrain[r][a] * dy;
            }
            weights[i] = DenseLinearAlgebra.SolveCholesky(gram, rhs) ?? throw new InvalidOperationException("probe system is not positive definite (ridge must be > 0)");
        }
        var testMean = new double[m];
        foreach (var (_, y) in test) for (var i = 0; i < m; i++) testMean[i] += y[i];
        for (var i = 0; i < m; i++) testMean[i] /= test.Count;
        double sse = 0, sst = 0;
        foreach (var (x, y) in test)
        {
            var z = Standardize(x);
            for (var i = 0; i < m; i++)
            {
                var prediction = yMean[i] + DenseLinearAlgebra.Dot(weights[i], z);
                sse += (prediction - y[i]) * (prediction - y[i]);
                sst += (y[i] - testMean[i]) * (y[i] - testMean[i]);
            }
        }
        return (sst > 0 ? 1 - sse / sst : double.NaN, train.Count, test.Count);
    }
}
