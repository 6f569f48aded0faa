using System.Text.Json;

namespace Generalist.Cli.Tests;

/// <summary>
/// bench/gpu/: the prepared device check. The fast tests check that the scripts parse, refuse bad
/// arguments in one line, and that the carry folder is git-ignored; the Slow one packs the carry
/// (under the 64 MiB limit) and runs the script's --dry-run on CPU end to end.
/// </summary>
public class GpuScriptTests
{
    private static string Repo => FindRepo();
    private static string Gpu => Path.Combine(Repo, "bench", "gpu");

    [Fact]
    public void The_device_scripts_parse_and_the_carry_folder_is_git_ignored()
    {
        foreach (var script in new[] { "run.sh", "pack-carry.sh", "rebuild-libtorchsharp.sh" })
        {
            var (code, _, stderr) = Run("bash", Repo, null, "-n", Path.Combine(Gpu, script));
            Assert.True(code == 0, $"{script}: {stderr}");
        }
        var python = new[] { "bench/gpu/nccl_check.py", "bench/gpu/report.py", "bench/peer/check.py", "bench/peer/speed.py", "bench/peer/model.py" };
        foreach (var file in python)
        {
            // Compiling parses the file without running it (no torch needed).
            var (code, _, stderr) = Run("/usr/bin/python3", Repo, null, "-c", $"import ast,sys; ast.parse(open('{file}').read(), '{file}')");
            Assert.True(code == 0, $"{file}: {stderr}");
        }
        var (ignored, stdout, _) = Run("git", Repo, null, "check-ignore", "bench/gpu/carry/app.tar.xz", "bench/gpu/torchsharp-src/x");
        Assert.Equal(0, ignored);
        Assert.Equal(2, stdout.Trim().Split('\n').Length);
    }

    [Theory]
    [InlineData("--budget-s 10", "--budget-s must be a whole number of seconds >= 60")]
    [InlineData("--frobnicate", "unknown argument '--frobnicate'")]
    public void The_device_script_refuses_bad_arguments_in_one_line_with_exit_2(string args, string expected)
    {
        var (code, _, stderr) = Run("bash", Repo, new() { ["OUT"] = Path.GetTempPath() }, [Path.Combine(Gpu, "run.sh"), .. args.Split(' ')]);
        Assert.Equal(2, code);
        var line = Assert.Single(stderr.Trim().Split('\n'));
        Assert.Contains(expected, line);
    }

    [Fact]
    [Trait("Category", "Slow")]
    public void The_carry_fits_the_limit_and_the_dry_run_passes_every_step_it_can_run_on_CPU()
    {
        var (code, stdout, stderr) = Run("bash", Repo, null, Path.Combine(Gpu, "pack-carry.sh"));
        Assert.True(code == 0, stdout + stderr);
        var bytes = Directory.GetFiles(Path.Combine(Gpu, "carry")).Sum(f => new FileInfo(f).Length);
        Assert.InRange(bytes, 1, 64L * 1024 * 1024);

        var output = Directory.CreateTempSubdirectory("gpu-dry-run").FullName;
        try
        {
            (code, stdout, stderr) = Run("bash", Repo, null, Path.Combine(Gpu, "run.sh"), "--dry-run", "--out", output);
            Assert.True(code == 0, stdout + stderr);
            using var results = JsonDocument.Parse(File.ReadAllText(Path.Combine(output, "gpu-results.json")));
            var steps = results.RootElement.GetProperty("steps").EnumerateArray()
                .ToDictionary(s => s.GetProperty("name").GetString()!, s => s.GetProperty("status").GetString());
            foreach (var name in new[] { "facts", "unpack", "doctor", "bench-ladder-0", "peer-ladder-0", "train", "eval", "nccl", "bench-ladder-1", "peer-ladder-1" })
                Assert.True(steps.GetValueOrDefault(name) == "ok", $"{name}: {steps.GetValueOrDefault(name) ?? "absent"}\n{stdout}");
            var outputs = results.RootElement.GetProperty("outputs");
            var peer = outputs.GetProperty("peer-ladder-0").GetProperty("precisions");
            foreach (var precision in new[] { "fp32", "bf16" })
                Assert.True(peer.GetProperty(precision).GetProperty("ours_over_peer_eager").GetDouble() > 0);
            Assert.Equal("completed", outputs.GetProperty("train").GetProperty("outcome").GetString());
            Assert.True(outputs.GetProperty("nccl").GetProperty("correct").GetBoolean());
            var table = File.ReadAllText(Path.Combine(output, "gpu-results.md"));
            Assert.Contains("| ladder-0 | bf16 |", table);
        }
        finally
        {
            Directory.Delete(output, true);
        }
    }

    /// <summary>The repository of this source file (the build output may live outside it, --artifacts-path).</summary>
    private static string FindRepo([System.Runtime.CompilerServices.CallerFilePath] string source = "") =>
        Path.GetFullPath(Path.Combine(Path.GetDirectoryName(source)!, "..", ".."));

    private static (int Code, string Stdout, string Stderr) Run(string file, string directory, Dictionary<string, string>? env, params string[] args) =>
        CliProcess.RunProgram(file, directory, env, TimeSpan.FromMinutes(25), args);
}
