using System.Text;
using System.Text.Json;
using System.Text.Json.Serialization;

namespace Generalist.Evaluation.Reporting;

/// <summary>Writes every report file under a temporary name and renames it into place, so a crash never leaves half a file.</summary>
public static class AtomicFiles
{
    public static readonly JsonSerializerOptions Json = new()
    {
        WriteIndented = true,
        PropertyNamingPolicy = JsonNamingPolicy.SnakeCaseLower,
        NumberHandling = JsonNumberHandling.AllowNamedFloatingPointLiterals,
        DefaultIgnoreCondition = JsonIgnoreCondition.Never,
    };

    public static void WriteText(string path, string text) => Write(path, tmp => File.WriteAllText(tmp, text, new UTF8Encoding(false)));

    public static void WriteJson<T>(string path, T value) => WriteText(path, JsonSerializer.Serialize(value, Json) + "\n");

    /// <summary>Runs <paramref name="writeTo"/> on a temporary path with the same extension, then renames it to <paramref name="path"/>.</summary>
    public static void Write(string path, Action<string> writeTo)
    {
        var full = Path.GetFullPath(path);
        Directory.CreateDirectory(Path.GetDirectoryName(full)!);
        var tmp = Path.Combine(Path.GetDirectoryName(full)!, $".{Path.GetFileNameWithoutExtension(full)}.{Guid.NewGuid():N}.tmp{Path.GetExtension(full)}");
        try
        {
            writeTo(tmp);
            File.Move(tmp, full, overwrite: true);
        }
        finally
        {
            if (File.Exists(tmp)) File.Delete(tmp);
        }
    }

    /// <summary>One CSV field, quoted when it holds a comma, quote or newline (RFC 4180).</summary>
    public static string CsvField(string s) =>
        s.IndexOfAny([',', '"', '\n', '\r']) >= 0 ? "\"" + s.Replace("\"", "\"\"") + "\"" : s;

    public static string CsvNumber(double v) => double.IsFinite(v) ? v.ToString("R", System.Globalization.CultureInfo.InvariantCulture) : "";

    public static string Csv(IEnumerable<string> header, IEnumerable<IEnumerable<string>> rows)
    {
        var sb = new StringBuilder();
        sb.AppendLine(string.Join(",", header.Select(CsvField)));
        foreach (var r in rows) sb.AppendLine(string.Join(",", r.Select(CsvField)));
        return sb.ToString();
    }
}
