using System.CommandLine;
using System.Globalization;
using Generalist.Torch;
using Generalist.Training.Export;

namespace Generalist.Cli.Commands;

/// <summary>
/// `generalist export-batch --checkpoint DIR --out FILE`: one real packed batch of a checkpoint's
/// run with our fp32 loss, per-task losses, gradient norm and the losses of replayed AdamW steps,
/// as safetensors for the PyTorch peer (bench/peer/check.py) to reproduce.
/// </summary>
public static class ExportBatchCommand
{
    public static Command Create()
    {
        var json = CliApp.JsonOption();
        var checkpoint = new Option<string>("--checkpoint") { Description = "A checkpoint (step-N directory) or a run directory (its newest valid checkpoint).", Required = true };
        var output = new Option<FileInfo>("--out") { Description = "The safetensors file to write (its directory must exist).", Required = true };
        var steps = new Option<int>("--steps") { Description = $"AdamW updates replayed on the batch from the checkpoint's optimizer state, 0-{PeerBatchExport.MaxSteps}.", DefaultValueFactory = _ => 10 };
        var threads = new Option<int>("--threads") { Description = "CPU threads for libtorch, 1-1024 (0: libtorch's default).", DefaultValueFactory = _ => 0 };
        var command = new Command("export-batch",
            "Export the next real packed batch of a checkpoint's run (tokens, positions, patches, loss mask, task ids) with our fp32 loss, per-task losses, gradient norm and replayed AdamW losses, as safetensors for bench/peer/.")
        {
            checkpoint, output, steps, threads, json,
        };
        command.SetAction(parse =>
        {
            var s = parse.GetValue(steps);
            if (s is < 0 or > PeerBatchExport.MaxSteps) throw new CliInputException($"--steps must be in [0, {PeerBatchExport.MaxSteps}] (got {s})");
            var t = parse.GetValue(threads);
            if (t is < 0 or > 1024) throw new CliInputException($"--threads must be in [0, 1024] (got {t})");
            var file = parse.GetValue(output)!;
            if (Directory.Exists(file.FullName)) throw new CliInputException($"--out: {file.FullName} is a directory; give a file name");
            TorchRuntime.EnsureLoaded();
            if (t > 0) TorchSharp.torch.set_num_threads(t);
            var asJson = parse.GetValue(json);
            var result = PeerBatchExport.Run(new PeerExportOptions(parse.GetValue(checkpoint)!, file.FullName, s), asJson ? null : m => Console.Error.WriteLine(m));
            if (asJson) CliApp.WriteJson(result);
            else
            {
                Console.WriteLine($"wrote {result.Output}: batch {result.BatchSize} x {result.ContextLength}, {result.PatchCount} patches, {result.LossTokens} loss tokens");
                Console.WriteLine($"loss {F(result.Loss)}, grad norm {F(result.GradNorm)}; per task: {string.Join(", ", result.TaskLoss.Select(kv => $"{kv.Key} {F(kv.Value)}"))}");
                if (result.Losses.Count > 1) Console.WriteLine($"loss after {result.Losses.Count - 1} AdamW steps: {F(result.Losses[^1])}");
            }
            return ExitCodes.Ok;
        });
        return command;
    }

    private static string F(double v) => v.ToString("0.000000", CultureInfo.InvariantCulture);
}
