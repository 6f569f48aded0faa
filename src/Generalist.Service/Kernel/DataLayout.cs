using Generalist.Service.Security;
using Microsoft.Extensions.Options;

namespace Generalist.Service.Kernel;

/// <summary>Where things live under the data root. Every directory name that comes from a request
/// has passed <see cref="Generalist.RunFormat.RunNames"/> or <see cref="SafePaths"/> first.</summary>
public sealed class DataLayout
{
    public DataLayout(IOptions<ServiceOptions> options)
        : this(options.Value.DataRoot)
    {
    }

    public DataLayout(string dataRoot)
    {
        Root = Path.TrimEndingDirectorySeparator(Path.GetFullPath(dataRoot));
    }

    public string Root { get; }
    public string RegistryPath => Path.Combine(Root, "registry.db");
    public string RunsDirectory => Path.Combine(Root, "runs");
    public string EvaluationsDirectory => Path.Combine(Root, "evaluations");
    public string StudiesDirectory => Path.Combine(Root, "studies");

    public string RunDirectory(string run) => Path.Combine(RunsDirectory, run);
    public string EvaluationDirectory(string evaluation) => Path.Combine(EvaluationsDirectory, evaluation);
    public string StudyDirectory(string study) => Path.Combine(StudiesDirectory, study);

    public void EnsureCreated()
    {
        Directory.CreateDirectory(RunsDirectory);
        Directory.CreateDirectory(EvaluationsDirectory);
        Directory.CreateDirectory(StudiesDirectory);
    }

    /// <summary>The path as clients see it: relative to the root with '/' separators, or as is when outside.</summary>
    public string ToRelative(string path)
    {
        if (string.IsNullOrEmpty(path)) return "";
        var full = Path.GetFullPath(path, Root);
        return SafePaths.IsUnder(Root, full) ? Path.GetRelativePath(Root, full).Replace('\\', '/') : full;
    }

    public string ToAbsolute(string relative) => Path.GetFullPath(Path.Combine(Root, relative));
}
