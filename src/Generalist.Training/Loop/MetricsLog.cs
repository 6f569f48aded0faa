using System.Text.Json;
using System.Text.Json.Serialization;
using Generalist.RunFormat;

namespace Generalist.Training.Loop;

/// <summary>One line of metrics.jsonl (snake_case keys; seconds; MFU as a fraction).</summary>
public sealed record MetricsLine(
    [property: JsonPropertyName("step")] long Step,
    [property: JsonPropertyName("loss")] double Loss,
    [property: JsonPropertyName("task_loss")] IReadOnlyDictionary<string, double> TaskLoss,
    [property: JsonPropertyName("lr")] double LearningRate,
    [property: JsonPropertyName("grad_norm")] double GradNorm,
    [property: JsonPropertyName("tokens")] long Tokens,
    [property: JsonPropertyName("tokens_seen")] long TokensSeen,
    [property: JsonPropertyName("tokens_per_s")] double TokensPerSecond,
    [property: JsonPropertyName("mfu")] double Mfu,
    [property: JsonPropertyName("data_s")] double DataSeconds,
    [property: JsonPropertyName("forward_s")] double ForwardSeconds,
    [property: JsonPropertyName("backward_s")] double BackwardSeconds,
    [property: JsonPropertyName("optimizer_s")] double OptimizerSeconds,
    [property: JsonPropertyName("skipped")] bool Skipped,
    [property: JsonPropertyName("held_out_loss")] IReadOnlyDictionary<string, double>? HeldOutLoss,
    [property: JsonPropertyName("sync_s")] double SyncSeconds = 0,
    [property: JsonPropertyName("world_size")] int WorldSize = 1,
    [property: JsonPropertyName("rank")] int Rank = 0);

/// <summary>
/// metrics.jsonl in the run directory, one JSON line per step, flushed per line so a crash loses
/// at most the line being written. On resume or rollback the lines after the restored step are
/// dropped first (through a temporary file and a rename), so the file always describes one history.
/// </summary>
public sealed class MetricsLog : IDisposable
{
    private static readonly JsonSerializerOptions Options = new()
    {
        NumberHandling = JsonNumberHandling.AllowNamedFloatingPointLiterals,
    };

    private readonly string _path;
    private FileStream _writer;

    public MetricsLog(string path, long keepThroughStep)
    {
        _path = path;
        TruncateAfter(path, keepThroughStep);
        _writer = Open(path);
    }

    public string Path => _path;

    /// <summary>
    /// Appends one line, whole or not at all: when the disk fills mid-line the file is cut back to
    /// where it was (shrinking a file needs no space), so a reader never meets half a line.
    /// </summary>
    public void Append(MetricsLine line)
    {
        var bytes = System.Text.Encoding.UTF8.GetBytes(JsonSerializer.Serialize(line, Options) + "\n");
        var before = _writer.Length;
        try
        {
            _writer.Write(bytes);
            _writer.Flush();
        }
        catch (IOException e)
        {
            try
            {
                _writer.SetLength(before);
            }
            catch (IOException)
            {
                // The next start drops a cut line (StepOf) anyway.
            }
            throw new IOException($"{_path}: step {line.Step} could not be appended: {StorageErrors.Describe(e)}", e);
        }
    }

    /// <summary>Drops every line whose step is greater than <paramref name="step"/>.</summary>
    public void RewindTo(long step)
    {
        _writer.Dispose();
        TruncateAfter(_path, step);
        _writer = Open(_path);
    }

    // Unbuffered: each Append is one write of one whole line, nothing left to flush at Dispose.
    private static FileStream Open(string path) => new(path, FileMode.Append, FileAccess.Write, FileShare.Read, bufferSize: 0);

    private static void TruncateAfter(string path, long step)
    {
        if (!File.Exists(path)) return;
        var kept = File.ReadLines(path).Where(l => StepOf(l) is { } s && s <= step).ToList();
        var tmp = path + ".tmp";
        File.WriteAllLines(tmp, kept);
        File.Move(tmp, path, overwrite: true);
    }

    private static long? StepOf(string line)
    {
        try
        {
            using var doc = JsonDocument.Parse(line);
            return doc.RootElement.TryGetProperty("step", out var s) && s.TryGetInt64(out var v) ? v : null;
        }
        catch (JsonException)
        {
            return null; // a line cut by a crash
        }
    }

    /// <summary>Reads a metrics file back (for tests and reports).</summary>
    public static List<MetricsLine> Read(string path) =>
        File.ReadLines(path).Select(l => JsonSerializer.Deserialize<MetricsLine>(l, Options)!).ToList();

    public void Dispose() => _writer.Dispose();
}
