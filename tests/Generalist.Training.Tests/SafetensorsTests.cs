using System.Diagnostics;
using System.Text.Json;
using TorchSharp;
using static TorchSharp.torch;
using Generalist.RunFormat.Safetensors;
using Generalist.TestSupport;

namespace Generalist.Training.Tests;

public class SafetensorsTests
{
    private static List<(string, Tensor)> Sample()
    {
        manual_seed(5);
        return
        [
            ("blocks.0.attn.weight", randn(6, 4)),
            ("embed", arange(10, dtype: ScalarType.Int64)),
            ("half", randn(3, 2).to(ScalarType.BFloat16)),
            ("scalar", tensor(2.5f)),
            ("empty", zeros(0, 3)),
        ];
    }

    [Fact]
    public void Round_trip_keeps_names_dtypes_shapes_values_and_metadata()
    {
        using var dir = new TempDir();
        using var scope = NewDisposeScope();
        var path = dir.File("a.safetensors");
        var tensors = Sample();
        SafetensorsWriter.Write(path, tensors, new Dictionary<string, string> { ["format"] = "pt", ["step"] = "7" });
        var file = SafetensorsFile.Open(path);
        Assert.Equal("7", file.Metadata["step"]);
        Assert.Equal(64, file.Metadata[SafetensorsWriter.ChecksumKey].Length);
        var back = file.ReadAll();
        Assert.Equal(tensors.Count, back.Count);
        foreach (var (name, t) in tensors)
        {
            Assert.Equal(t.dtype, back[name].dtype);
            Assert.Equal(t.shape, back[name].shape);
            Assert.True(t.eq(back[name]).all().item<bool>(), name);
        }
        Assert.Empty(Directory.GetFiles(dir.Path, "*.tmp*"));
    }

    [Fact]
    public void A_standard_library_python_reader_parses_a_file_we_wrote()
    {
        using var dir = new TempDir();
        using var scope = NewDisposeScope();
        var path = dir.File("py.safetensors");
        manual_seed(9);
        var w = randn(5, 3);
        var ids = arange(12, dtype: ScalarType.Int64).reshape(3, 4);
        SafetensorsWriter.Write(path, [("w", w), ("ids", ids)]);
        var script = System.IO.Path.Combine(AppContext.BaseDirectory, "Scripts", "read_safetensors.py");
        var psi = new ProcessStartInfo("/usr/bin/python3", [script, path]) { RedirectStandardOutput = true, RedirectStandardError = true };
        using var p = Process.Start(psi)!;
        var stdout = p.StandardOutput.ReadToEnd();
        var stderr = p.StandardError.ReadToEnd();
        Assert.True(p.WaitForExit(30_000));
        Assert.True(p.ExitCode == 0, stderr);
        using var doc = JsonDocument.Parse(stdout);
        var root = doc.RootElement;
        Assert.Equal("F32", root.GetProperty("w").GetProperty("dtype").GetString());
        Assert.Equal([5, 3], root.GetProperty("w").GetProperty("shape").EnumerateArray().Select(x => x.GetInt32()));
        Assert.Equal(w.sum().item<float>(), root.GetProperty("w").GetProperty("sum").GetDouble(), 4);
        Assert.Equal(66.0, root.GetProperty("ids").GetProperty("sum").GetDouble());
    }
}
