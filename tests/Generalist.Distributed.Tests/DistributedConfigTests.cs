namespace Generalist.Distributed.Tests;

public class DistributedConfigTests
{
    [Fact]
    public void The_defaults_are_valid_and_mean_plain_data_parallelism()
    {
        var c = new DistributedConfig();
        Assert.Empty(c.Validate());
        Assert.Equal(("auto", "mean"), (c.Backend, c.Aggregation));
        Assert.Equal(25L << 20, c.BucketBytes);
    }

    [Fact]
    public void Every_bad_field_is_named_with_its_range()
    {
        var c = new DistributedConfig
        {
            Backend = "gloo", Aggregation = "krum", TrimFraction = 0.7, ClipRadius = double.NaN, ClipIterations = 0,
            TimeoutSeconds = 0, BucketMb = 0, Launcher = "mpirun -np {ranks}", Ranks = 0,
        };
        var fields = c.Validate().Select(e => e.Field).ToList();
        Assert.Equal(
            ["distributed.backend", "distributed.aggregation", "distributed.trim_fraction", "distributed.clip_radius", "distributed.clip_iterations",
             "distributed.timeout_seconds", "distributed.bucket_mb", "distributed.launcher", "distributed.ranks"], fields);
        Assert.Contains(c.Validate(), e => e.Message.Contains("mean, trimmed_mean, median, centered_clip"));
    }
}
