namespace Generalist.Cli.Tests;

/// <summary>`generalist export-batch` refuses bad input in one line with exit 2 (the export itself: PeerCheckTests, Slow).</summary>
public class ExportBatchCommandTests
{
    [Fact]
    public void Bad_input_is_one_line_with_exit_2_naming_the_option_and_nothing_is_written()
    {
        var root = Directory.CreateTempSubdirectory("export-batch").FullName;
        try
        {
            var output = Path.Combine(root, "batch.safetensors");
            (string[] Args, string Expected)[] cases =
            [
                (["--checkpoint", Path.Combine(root, "missing"), "--out", output], "checkpoint not found"),
                (["--checkpoint", root, "--out", output, "--steps", "5000"], "--steps must be in [0, 1000]"),
                (["--checkpoint", root, "--out", Path.Combine(root, "no", "such", "dir", "b.safetensors")], "--out: directory"),
                (["--checkpoint", root, "--out", root], "is a directory"),
                (["--checkpoint", root, "--out", output], "neither a checkpoint"),
            ];
            foreach (var (args, expected) in cases)
            {
                var (code, _, stderr) = CliProcess.Run(null, ["export-batch", .. args]);
                Assert.Equal(2, code);
                var line = Assert.Single(stderr.Trim().Split('\n'));
                Assert.Contains(expected, line);
            }
            Assert.False(File.Exists(output));
        }
        finally
        {
            Directory.Delete(root, true);
        }
    }
}
