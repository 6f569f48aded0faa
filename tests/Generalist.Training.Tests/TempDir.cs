namespace Generalist.Training.Tests;

/// <summary>A fresh temporary directory deleted at dispose.</summary>
internal sealed class TempDir : IDisposable
{
    public TempDir(string prefix = "gtrain") => Path = Directory.CreateTempSubdirectory(prefix).FullName;

    public string Path { get; }

    public string File(string name) => System.IO.Path.Combine(Path, name);

    public void Dispose()
    {
        try { Directory.Delete(Path, recursive: true); } catch (IOException) { } catch (UnauthorizedAccessException) { }
    }
}
