namespace Generalist.TestSupport;

/// <summary>A fresh temporary directory, deleted at dispose.</summary>
public sealed class TempDir : IDisposable
{
    public TempDir(string prefix = "generalist-tests") => Path = Directory.CreateTempSubdirectory(prefix).FullName;

    public string Path { get; }

    /// <summary>A path inside the directory; its parent folders are created.</summary>
    public string File(string relative)
    {
        var full = System.IO.Path.Combine(Path, relative);
        Directory.CreateDirectory(System.IO.Path.GetDirectoryName(full)!);
        return full;
    }

    public void Dispose()
    {
        try { Directory.Delete(Path, recursive: true); } catch (IOException) { } catch (UnauthorizedAccessException) { }
    }
}
