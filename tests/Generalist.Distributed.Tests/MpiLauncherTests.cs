namespace Generalist.Distributed.Tests;

public class MpiLauncherTests
{
    [Fact]
    public void The_template_becomes_an_argument_vector_with_the_command_kept_whole()
    {
        var argv = MpiLauncher.Render("srun --ntasks={ranks} --mpi=pmix '--job-name=my run' {command}", 4,
            ["generalist", "train", "--config", "a b.json"]);
        Assert.Equal(["srun", "--ntasks=4", "--mpi=pmix", "--job-name=my run", "generalist", "train", "--config", "a b.json"], argv);
    }

    [Fact]
    public void Mpirun_as_root_gets_the_flag_it_needs()
    {
        var argv = MpiLauncher.Render("mpirun -np {ranks} {command}", 2, ["x"]);
        Assert.Equal("mpirun", argv[0]);
        Assert.Equal(Environment.UserName == "root", argv.Contains("--allow-run-as-root"));
        Assert.Equal(["-np", "2", "x"], argv.Where(a => a != "--allow-run-as-root").Skip(1));
    }

    [Theory]
    [InlineData("mpirun -np {ranks}", "{command} exactly once")]
    [InlineData("mpirun {command} {command}", "{command} exactly once")]
    [InlineData("mpirun 'oops {command}", "unclosed ' quote")]
    public void Bad_templates_are_refused(string template, string message)
    {
        var e = Assert.Throws<DistributedException>(() => MpiLauncher.Render(template, 2, ["x"]));
        Assert.Contains(message, e.Message);
    }
}
