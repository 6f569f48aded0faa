namespace Generalist.Cli.Tests;

/// <summary>`generalist study ablation`: the command exists beside transfer and scaling, and a bad config exits 2 naming the field before anything runs.</summary>
public class StudyCommandTests
{
    [Fact]
    public void Study_lists_the_ablation_kind_beside_transfer_and_scaling()
    {
        var (code, stdout, _) = CliProcess.Run(null, "study", "--help");
        Assert.Equal(0, code);
        Assert.Contains("transfer", stdout);
        Assert.Contains("scaling", stdout);
        Assert.Contains("ablation", stdout);
        var (ablationCode, ablationHelp, _) = CliProcess.Run(null, "study", "ablation", "--help");
        Assert.Equal(0, ablationCode);
        Assert.Contains("--config", ablationHelp);
        Assert.Contains("--out", ablationHelp);
    }

    [Theory]
    [InlineData("""{"variants":[{"name":"gato-exact"},{"name":"gato-exact"}]}""", "ablation.variants[1].name: 'gato-exact' is already the name of ablation.variants[0]")]
    [InlineData("""{"variants":[{"name":"a","overrides":{"model":{"value_embedding":"cubic"}}}]}""", "ablation.variants[0].overrides.model.value_embedding: must be \"fourier\" or \"none\"")]
    [InlineData("""{"seeds":[]}""", "ablation.seeds: must list at least one seed")]
    public void A_bad_ablation_config_exits_2_with_one_line_naming_the_field_and_writes_nothing(string ablation, string expected)
    {
        var dir = Directory.CreateTempSubdirectory("study-cli-").FullName;
        try
        {
            var config = Path.Combine(dir, "study.json");
            File.WriteAllText(config, $$"""{"name":"abl","base":{"preset":"ladder-0","steps":5,"tasks":[{"name":"cartpole"}]},"ablation":{{ablation}}}""");
            var output = Path.Combine(dir, "out");
            var (code, stdout, stderr) = CliProcess.Run(null, "study", "ablation", "--config", config, "--out", output);
            Assert.Equal(2, code);
            Assert.Contains(expected, stderr);
            Assert.Single(stderr.Trim().Split('\n'));
            Assert.DoesNotContain("System.", stderr);
            Assert.Equal("", stdout.Trim());
            Assert.False(Directory.Exists(output));
        }
        finally
        {
            Directory.Delete(dir, true);
        }
    }

    [Theory]
    [InlineData("""{"prompts":16,"probe_prompts":20}""", "icl.probe_prompts: must be at most icl.prompts = 16 (got 20)")]
    [InlineData("""{"checkpoint":"no-such-dir"}""", "icl.checkpoint: directory not found: no-such-dir")]
    public void A_bad_icl_study_config_exits_2_with_one_line_naming_the_field(string icl, string expected)
    {
        var dir = Directory.CreateTempSubdirectory("study-cli-").FullName;
        try
        {
            var config = Path.Combine(dir, "study.json");
            File.WriteAllText(config, $$"""{"name":"icl","base":{"preset":"ladder-0","steps":5,"tasks":[{"name":"icl-regression"}]},"icl":{{icl}}}""");
            var output = Path.Combine(dir, "out");
            var (code, stdout, stderr) = CliProcess.Run(null, "study", "icl", "--config", config, "--out", output);
            Assert.Equal(2, code);
            Assert.Contains(expected, stderr);
            Assert.Single(stderr.Trim().Split('\n'));
            Assert.Equal("", stdout.Trim());
            Assert.False(Directory.Exists(output));
        }
        finally
        {
            Directory.Delete(dir, true);
        }
    }
}
