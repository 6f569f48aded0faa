namespace Generalist.Cli.Tests;

/// <summary>The CLI's flags for runs the service launches on several ranks: bad values get one line and exit 2.</summary>
public class DistributedRunFlagsTests
{
    [Fact]
    public void Runs_create_refuses_a_rank_count_out_of_range_before_calling_the_service()
    {
        var (code, _, stderr) = CliProcess.Run(null, "runs", "create", "--name", "dp", "--ranks", "0", "--server", "http://127.0.0.1:9");
        Assert.Equal(2, code);
        Assert.Contains("--ranks must be in [1, 65536] (got 0)", stderr);
    }

    [Fact]
    public void Serve_refuses_a_launcher_template_without_its_command_naming_the_setting()
    {
        var root = Directory.CreateTempSubdirectory("generalist-serve-launcher-");
        try
        {
            var (code, _, stderr) = CliProcess.Run(null, "serve", "--data-root", root.FullName, "--port", "0", "--metrics-port", "0",
                "--launcher", "mpirun -np {ranks} --hostfile hosts");
            Assert.Equal(2, code);
            Assert.Contains("Service:Launcher (--launcher)", stderr);
            Assert.Contains("{command} exactly once", stderr);
        }
        finally
        {
            root.Delete(true);
        }
    }
}
