using Generalist.Datasets.Cache;
using Generalist.Datasets.Sets;
using Generalist.Training.Data;
using Generalist.Episodes;
using Generalist.Packing;
using Generalist.RunFormat;

namespace Generalist.Training.Tests;

/// <summary>The run config's icl_regression section: parsed, validated naming the field, and reaching the data.</summary>
public class IclRegressionConfigTests
{
    private static RunConfig Parse(string section) =>
        RunConfig.Parse($$"""{"tasks": [{"name": "icl-regression"}], "icl_regression": {{section}}}""");

    [Fact]
    public void Defaults_are_the_task_as_it_was_and_options_reach_the_data_set()
    {
        Assert.Equal(new IclRegressionOptions(), new RunConfig().IclRegression.ToOptions());
        // A dense task below the sparse default's 3 coordinates is valid: sparse_nonzero is read only by sparse tasks.
        Assert.Equal(2, Parse("""{"dimension": 2}""").IclRegression.Dimension);
        var config = Parse("""{"dimension": 4, "pairs": 12, "noise_std": 0.5, "input_scale": 2, "function": "sparse", "sparse_nonzero": 2}""");
        var data = config.DataOptionsIn(PackageCache.DefaultRoot()).IclRegression!;
        Assert.Equal(new IclRegressionOptions(4, 12, 0.5, 2.0, IclFunctionKinds.Sparse, 2), data);
        var source = (IclRegressionSource)Generalist.Datasets.TaskCatalog.Load("icl-regression", config.DataOptionsIn(PackageCache.DefaultRoot())).Train;
        Assert.Equal(12, source.Get(0).Timesteps.Count);
        Assert.Equal(4, source.Get(0).Timesteps[0].Observation.Continuous!.Length);
    }

    [Theory]
    [InlineData("""{"dimension": 0}""", "icl_regression.dimension: must be in [1, 256] (got 0)")]
    [InlineData("""{"pairs": 5000}""", "icl_regression.pairs: must be in [1, 4096] (got 5000)")]
    [InlineData("""{"noise_std": -1}""", "icl_regression.noise_std: must be in [0, 10] (got -1)")]
    [InlineData("""{"input_scale": 0}""", "icl_regression.input_scale: must be in (0, 100] (got 0)")]
    [InlineData("""{"function": "cubic"}""", "icl_regression.function: must be one of gaussian, sparse, relu2 (got 'cubic')")]
    [InlineData("""{"dimension": 4, "function": "sparse", "sparse_nonzero": 5}""", "icl_regression.sparse_nonzero: must be in [1, dimension = 4] for function sparse (got 5)")]
    [InlineData("""{"dimension": 4, "curriculum": {"every_steps": 10, "start_dimension": 6}}""", "icl_regression.curriculum.start_dimension: must be in [1, dimension = 4] (got 6)")]
    [InlineData("""{"pairs": 8, "curriculum": {"every_steps": 10, "start_pairs": 4, "pairs_increment": 0}}""", "icl_regression.curriculum.pairs_increment: must be > 0 when start_pairs is below pairs")]
    [InlineData("""{"dimensions": 4}""", "dimensions")]
    [InlineData("""{"dimension": 2, "function": "relu2", "sparse_nonzero": 0}""", "icl_regression.sparse_nonzero: must be in [1, 256] (got 0)")]
    public void Bad_values_are_refused_naming_the_field_and_its_range(string section, string expected)
    {
        var e = Assert.Throws<ConfigException>(() => Parse(section));
        Assert.Contains(expected, e.Message);
    }

    [Fact]
    public void A_curriculum_grows_dimension_and_pairs_with_the_optimizer_step_and_ends_at_the_task()
    {
        var config = Parse("""{"dimension": 4, "pairs": 10, "curriculum": {"every_steps": 5, "start_dimension": 2, "start_pairs": 4, "dimension_increment": 1, "pairs_increment": 3}}""")
            with { GradAccum = 2, BatchSize = 4, ContextLength = 128 };
        var model = config.ResolveModel();
        var data = new CatalogTrainingData().Create(config, model, null);
        var source = (IclRegressionSource)Generalist.Datasets.TaskCatalog.Load("icl-regression", config.DataOptionsIn(PackageCache.DefaultRoot())).Train;
        Assert.Equal(3, source.StageCount); // (2, 4) -> (3, 7) -> (4, 10)
        Assert.Equal(0, source.StageAt(4));
        Assert.Equal(1, source.StageAt(5));
        Assert.Equal(2, source.StageAt(1_000));
        var first = source.Get(3, 0);
        Assert.Equal(4, first.Timesteps.Count);
        Assert.All(first.Timesteps, t => Assert.Equal([0f, 0f], t.Observation.Continuous![2..]));
        // The last stage is the task itself, the same sequences as without a curriculum.
        var plain = (IclRegressionSource)IclRegressionSource.Create(config.Seed, config.IclRegression.ToOptions() with { Curriculum = null }).Train;
        Assert.Equal(plain.Get(3).Timesteps.Select(t => t.Action!.Continuous![0]), source.Get(3, 2).Timesteps.Select(t => t.Action!.Continuous![0]));
        // Held-out sequences are the full task from the start.
        var heldOut = Generalist.Datasets.TaskCatalog.Load("icl-regression", config.DataOptionsIn(PackageCache.DefaultRoot())).HeldOut;
        Assert.Equal(10, heldOut.Get(0).Timesteps.Count);
        // The loader follows optimizer steps (batch b is step b / grad_accum): steps 0-4 are batches 0-9, all stage 0,
        // whose pairs end in 2 coordinates of exactly 0 (bin 512); from stage 2 on every coordinate is drawn.
        var vocab = Generalist.Tokenizers.VocabularyLayout.Default;
        double ZeroShare(Generalist.Packing.PackedBatch b) =>
            b.Tokens.Count(t => t == vocab.ContinuousOffset + 512) / (double)b.Tokens.Count(t => t >= vocab.ContinuousOffset && t < vocab.DiscreteOffset);
        var batches = Enumerable.Range(0, 30).Select(_ => data.Train.Next()).ToList();
        Assert.All(batches.Take(10), b => Assert.InRange(ZeroShare(b), 0.3, 0.45)); // 2 zeros of 5 values per pair (4 x, 1 y)
        Assert.All(batches.Skip(20), b => Assert.InRange(ZeroShare(b), 0, 0.05));
    }
}
