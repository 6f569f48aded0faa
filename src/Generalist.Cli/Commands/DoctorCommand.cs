using System.CommandLine;
using Generalist.Torch;
using Spectre.Console;

namespace Generalist.Cli.Commands;

/// <summary>`generalist doctor`: what torch runtime was loaded and what the machine offers.</summary>
public static class DoctorCommand
{
    public static Command Create()
    {
        var json = CliApp.JsonOption();
        var command = new Command("doctor", "Show the loaded libtorch, CPU threads, CUDA and bf16 support.") { json };
        command.SetAction(parse =>
        {
            DoctorReport report;
            try
            {
                report = TorchDoctor.Inspect();
            }
            catch (TorchLoadException e)
            {
                Console.Error.WriteLine($"error: {e.Message}");
                return ExitCodes.InvalidInput;
            }
            if (parse.GetValue(json))
            {
                CliApp.WriteJson(report);
                return ExitCodes.Ok;
            }
            var table = new Table().AddColumn("fact").AddColumn("value");
            table.AddRow("libtorch version", report.LibTorchVersion);
            table.AddRow("libtorch directory", Markup.Escape(report.LibTorchDirectory));
            table.AddRow("loaded from", report.Source);
            table.AddRow("LibTorchSharp", Markup.Escape(report.LibTorchSharpPath));
            table.AddRow("patched copy", report.PatchedCopy ? "yes (GLIBCXX_3.4.32 requirement made weak)" : "no");
            table.AddRow("torch backend (build)", report.TorchBackend);
            table.AddRow("CPU threads", report.CpuThreads.ToString());
            table.AddRow("CPU bf16 units", report.CpuBf16 ? "yes" : "no");
            table.AddRow("CUDA available", report.CudaAvailable ? $"yes ({report.CudaDeviceCount} device(s))" : "no");
            if (report.CudaAvailable)
            {
                table.AddRow("CUDA device", Markup.Escape(report.CudaDeviceName ?? "unknown (nvidia-smi not found)"));
                table.AddRow("CUDA memory", report.CudaMemoryBytes is { } m ? $"{m / (1024.0 * 1024 * 1024):F1} GiB" : "unknown");
                table.AddRow("CUDA bf16", report.CudaBf16 is { } b ? (b ? "yes" : "no") : "unknown");
            }
            Generalist.Cli.Output.CliTable.Write(table);
            return ExitCodes.Ok;
        });
        return command;
    }
}
