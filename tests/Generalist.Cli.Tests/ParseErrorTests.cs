namespace Generalist.Cli.Tests;

public class ParseErrorTests
{
    [Theory]
    [InlineData("--steps abc", "'--steps' as a whole number", "generalist train --help")]
    [InlineData("--frobnicate", "Unrecognized command or argument '--frobnicate'", "generalist train --help")]
    public void Parser_errors_are_one_line_each_and_exit_2_without_dot_net_type_names(string arguments, string expected, string hint)
    {
        var (code, stdout, stderr) = CliProcess.Run(null, ["train", .. arguments.Split(' ')]);
        Assert.Equal(2, code);
        Assert.Contains(expected, stderr);
        Assert.Contains(hint, stderr);
        Assert.DoesNotContain("System.", stderr);
        Assert.Equal("", stdout.Trim());
    }

    [Fact]
    public void Help_still_exits_0()
    {
        var (code, stdout, _) = CliProcess.Run(null, "train", "--help");
        Assert.Equal(0, code);
        Assert.Contains("--steps", stdout);
    }
}
