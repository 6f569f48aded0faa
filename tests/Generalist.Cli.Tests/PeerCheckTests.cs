using System.Text.Json;

namespace Generalist.Cli.Tests;

/// <summary>
/// Our model against the independent PyTorch peer (bench/peer/, Debian's python3-torch): a real
/// checkpoint is trained, `generalist export-batch` writes its next batch with our fp32 figures,
/// and bench/peer/check.py reproduces them: loss and per-task losses within 1e-5 relative, the
/// gradient norm within 1e-4, and the losses along 10 AdamW steps from the checkpoint's optimizer
/// state within 1e-4. Two runs cover the model options: the defaults (Fourier value embedding,
/// rotary positions) on tasks with image patches and text, and the value head with HL-Gauss soft
/// targets and no attention positions on continuous-action tasks.
/// </summary>
public class PeerCheckTests
{
    private const string Python = "/usr/bin/python3";
    private static readonly Dictionary<string, string?> Env = new() { ["GENERALIST_PEAK_FLOPS"] = "1e11" };

    public static TheoryData<string, string, string> Runs => new()
    {
        { "defaults", "cartpole,pendulum,catch,text,mnist", "{}" },
        { "value-head-hl-gauss", "pendulum,reacher,cartpole", """{"value_head": true, "continuous_label_sigma": 2, "attention_positions": "none"}""" },
    };

    [Theory]
    [Trait("Category", "Slow")]
    [MemberData(nameof(Runs))]
    public void The_peer_reproduces_our_loss_per_task_losses_grad_norm_and_ten_AdamW_steps(string name, string tasks, string modelOptions)
    {
        RequirePythonTorch();
        var root = Directory.CreateTempSubdirectory("peer-check-" + name).FullName;
        try
        {
            var config = Path.Combine(root, "run.json");
            File.WriteAllText(config, $$"""{"name": "peer-{{name}}", "preset": "ladder-0", "steps": 3, "batch_size": 6, "model": {{modelOptions}}}""");
            var run = Path.Combine(root, "run");
            var (code, stdout, stderr) = CliProcess.Run(Env, "train", "--config", config, "--tasks", tasks, "--out", run, "--json");
            Assert.True(code == 0, stderr);
            var checkpoint = JsonDocument.Parse(stdout).RootElement.GetProperty("last_checkpoint").GetString()!;

            var batch = Path.Combine(root, "batch.safetensors");
            (code, stdout, stderr) = CliProcess.Run(Env, "export-batch", "--checkpoint", run, "--out", batch, "--threads", "1", "--json");
            Assert.True(code == 0, stderr);
            var exported = JsonDocument.Parse(stdout).RootElement;
            Assert.Equal(11, exported.GetProperty("losses").GetArrayLength());
            Assert.True(exported.GetProperty("loss_tokens").GetDouble() > 0);

            var (pyCode, pyOut, pyErr) = Run(Python, CheckScript, "--checkpoint", checkpoint, "--batch", batch, "--json");
            Assert.True(pyCode is 0 or 1, $"check.py exit {pyCode}: {pyErr}");
            var report = JsonDocument.Parse(pyOut).RootElement;
            Assert.True(report.GetProperty("passed").GetBoolean(), pyOut);
            Assert.InRange(report.GetProperty("loss").GetProperty("relative").GetDouble(), 0, 1e-5);
            Assert.InRange(report.GetProperty("task_loss").GetProperty("max_relative").GetDouble(), 0, 1e-5);
            Assert.InRange(report.GetProperty("grad_norm").GetProperty("relative").GetDouble(), 0, 1e-4);
            Assert.InRange(report.GetProperty("losses_after_steps").GetProperty("max_relative").GetDouble(), 0, 1e-4);
            // The steps changed the loss: agreement along them is not agreement on a constant.
            var ours = report.GetProperty("losses_after_steps").GetProperty("ours");
            Assert.True(ours[0].GetDouble() - ours[10].GetDouble() > 1e-3, pyOut);
            Assert.Equal(exported.GetProperty("loss").GetDouble(), report.GetProperty("loss").GetProperty("ours").GetDouble(), 6);

            // A truncated model file is an input error (exit 2) naming the file, not a traceback.
            File.WriteAllBytes(Path.Combine(root, "model.safetensors"), [1, 2, 3]);
            File.Copy(Path.Combine(checkpoint, "trainer_state.json"), Path.Combine(root, "trainer_state.json"));
            (pyCode, _, pyErr) = Run(Python, CheckScript, "--checkpoint", root, "--batch", batch);
            Assert.Equal(2, pyCode);
            Assert.Contains("model.safetensors", pyErr);
        }
        finally
        {
            Directory.Delete(root, true);
        }
    }

    private static string CheckScript => Path.Combine(FindRepo(), "bench", "peer", "check.py");

    private static void RequirePythonTorch()
    {
        var (code, _, stderr) = Run(Python, "-c", "import torch");
        Assert.True(code == 0, $"the PyTorch peer needs Debian's python3-torch: apt-get install -y python3-torch ({Python} -c 'import torch' failed: {stderr.Trim()})");
    }

    /// <summary>The repository of this source file (the build output may live outside it, --artifacts-path).</summary>
    private static string FindRepo([System.Runtime.CompilerServices.CallerFilePath] string source = "") =>
        Path.GetFullPath(Path.Combine(Path.GetDirectoryName(source)!, "..", ".."));

    private static (int Code, string Stdout, string Stderr) Run(string file, params string[] args) =>
        CliProcess.RunProgram(file, null, null, TimeSpan.FromSeconds(600), args);
}
