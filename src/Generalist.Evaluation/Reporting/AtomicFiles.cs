using System.Text;
using System.Text.Json;
using System.Text.Json.Serialization;
using nietras.SeparatedValues;

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

    public static string CsvNumber(double v) => double.IsFinite(v) ? v.ToString("R", System.Globalization.CultureInfo.InvariantCulture) : "";

    /// <summary>
    /// A CSV table as text, written by Sep: a field is quoted only when it holds a comma, quote or
    /// line break (RFC 4180), lines end in Environment.NewLine. Rows may be shorter or longer than
    /// the header (a missing trailing field is left out, not written empty).
    /// </summary>
    public static string Csv(IEnumerable<string> header, IEnumerable<IEnumerable<string>> rows)
    {
        var sb = new StringBuilder();
        using (var writer = Sep.New(',').Writer(o => o with
               {
                   WriteHeader = false, // the header goes out as the first row, escaped like the others
                   Escape = true,
                   DisableColCountCheck = true,
                   ColNotSetOption = SepColNotSetOption.Skip,
               }).To(sb))
        {
            foreach (var fields in rows.Prepend(header))
            {
                using var row = writer.NewRow();
                var i = 0;
                foreach (var f in fields) row[i++].Set(f);
            }
        }
        return sb.ToString();
    }
}
