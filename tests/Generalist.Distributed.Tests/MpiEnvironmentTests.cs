namespace Generalist.Distributed.Tests;

public class MpiEnvironmentTests
{
    private static MpiEnvironment Read(params (string Key, string Value)[] vars)
    {
        var d = vars.ToDictionary(v => v.Key, v => v.Value);
        return MpiEnvironment.FromVariables(k => d.GetValueOrDefault(k));
    }

    [Fact]
    public void No_launcher_is_a_world_of_one()
    {
        var env = Read();
        Assert.Equal((1, 0, false, "none"), (env.WorldSize, env.Rank, env.IsDistributed, env.Launcher));
    }

    [Fact]
    public void Open_mpi_variables_win_over_slurm_ones()
    {
        var env = Read(("OMPI_COMM_WORLD_SIZE", "4"), ("OMPI_COMM_WORLD_RANK", "3"), ("OMPI_COMM_WORLD_LOCAL_RANK", "1"),
            ("OMPI_COMM_WORLD_LOCAL_SIZE", "2"), ("SLURM_NTASKS", "8"), ("SLURM_PROCID", "0"));
        Assert.Equal(new MpiEnvironment(4, 3, 1, 2, "openmpi"), env);
    }

    [Fact]
    public void Pmi_and_slurm_are_read()
    {
        Assert.Equal(new MpiEnvironment(3, 2, 0, 1, "pmi"), Read(("PMI_SIZE", "3"), ("PMI_RANK", "2")));
        Assert.Equal(new MpiEnvironment(6, 5, 1, 2, "slurm"),
            Read(("SLURM_NTASKS", "6"), ("SLURM_PROCID", "5"), ("SLURM_LOCALID", "1"), ("SLURM_NTASKS_PER_NODE", "2(x3)")));
    }

    [Theory]
    [InlineData("2", "2", "rank must be in [0, 1]")]
    [InlineData("0", "0", "world size must be >= 1")]
    [InlineData("two", "0", "OMPI_COMM_WORLD_SIZE='two' is not an integer")]
    public void Inconsistent_values_are_refused_with_the_variable_named(string size, string rank, string message)
    {
        var e = Assert.Throws<DistributedException>(() => Read(("OMPI_COMM_WORLD_SIZE", size), ("OMPI_COMM_WORLD_RANK", rank)));
        Assert.Contains(message, e.Message);
    }
}
