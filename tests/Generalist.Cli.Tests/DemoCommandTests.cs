namespace Generalist.Cli.Tests;

public class DemoCommandTests
{
    [Fact]
    public void Demo_refuses_bad_steps_with_one_line_and_exit_2()
    {
        var (code, _, stderr) = CliProcess.Run(null, "demo", "--steps", "0");
        Assert.Equal(2, code);
        Assert.Contains("--steps must be in [1, 100000]", stderr);
        Assert.DoesNotContain("   at ", stderr);
    }

    [Fact]
    [Trait("Category", "Slow")]
    public void Demo_trains_through_the_service_evaluates_and_writes_a_report()
    {
        var root = Directory.CreateTempSubdirectory("generalist-demo");
        try
        {
            var (code, stdout, stderr) = CliProcess.Run(null, "demo", "--out", root.FullName, "--steps", "8", "--episodes", "2");
            Assert.True(code == 0, stdout + stderr);
            var report = Path.Combine(root.FullName, "report.md");
            Assert.True(File.Exists(report));
            var text = File.ReadAllText(report);
            Assert.Contains("| cartpole |", text);
            // The report summarises the evaluation per task, shows the score chart and links the full evaluation.
            Assert.Contains("## Summary", text);
            Assert.Contains("## What the agent does", text);
            Assert.Contains("evaluation-default.md", text);
            Assert.True(File.Exists(Path.Combine(root.FullName, "report", "training-loss.png")));
        }
        finally
        {
            root.Delete(true);
        }
    }
}
