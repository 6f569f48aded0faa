using System.Text.RegularExpressions;
using System.Xml.Linq;

namespace Generalist.Architecture.Tests;

/// <summary>Every project file of the repository (bin/ and obj/ left out), its project references
/// and its C# sources, read as text.</summary>
public sealed partial class ProjectGraph
{
    public string Root { get; }
    public IReadOnlyDictionary<string, string> Paths { get; }            // name -> csproj path
    public IReadOnlyDictionary<string, IReadOnlyList<string>> References { get; } // name -> referenced names

    private ProjectGraph(string root, Dictionary<string, string> paths, Dictionary<string, IReadOnlyList<string>> references)
    {
        Root = root;
        Paths = paths;
        References = references;
    }

    public static ProjectGraph Load()
    {
        var root = RepositoryRoot();
        var paths = Directory.EnumerateFiles(root, "*.csproj", SearchOption.AllDirectories)
            .Where(p => !IsBuildOutput(p))
            .ToDictionary(p => Path.GetFileNameWithoutExtension(p), p => p);
        var references = paths.ToDictionary(kv => kv.Key, kv => (IReadOnlyList<string>)XDocument.Load(kv.Value)
            .Descendants("ProjectReference")
            .Select(r => Path.GetFileNameWithoutExtension(((string?)r.Attribute("Include") ?? "").Replace('\\', '/')))
            .ToList());
        return new ProjectGraph(root, paths, references);
    }

    /// <summary>The C# text of a project's own sources, comments and strings removed.</summary>
    public string CodeOf(string project)
    {
        var dir = Path.GetDirectoryName(Paths[project])!;
        var code = Directory.EnumerateFiles(dir, "*.cs", SearchOption.AllDirectories)
            .Where(f => !IsBuildOutput(f))
            .Select(File.ReadAllText);
        return string.Join('\n', code.Select(c => Strings().Replace(Comments().Replace(c, ""), "\"\"")));
    }

    /// <summary>A cycle in the reference graph as "A -> B -> A", or null.</summary>
    public string? FindCycle() => FindCycle(References);

    /// <summary>A cycle in <paramref name="references"/> as "A -> B -> A", or null.</summary>
    public static string? FindCycle(IReadOnlyDictionary<string, IReadOnlyList<string>> references)
    {
        var state = new Dictionary<string, int>(); // 1 on the path, 2 done
        var path = new List<string>();
        string? Visit(string node)
        {
            state[node] = 1;
            path.Add(node);
            foreach (var next in references.GetValueOrDefault(node, []))
            {
                if (state.GetValueOrDefault(next) == 1) return string.Join(" -> ", path.SkipWhile(p => p != next).Append(next));
                if (state.GetValueOrDefault(next) == 0 && Visit(next) is { } found) return found;
            }
            path.RemoveAt(path.Count - 1);
            state[node] = 2;
            return null;
        }
        foreach (var node in references.Keys.Order())
            if (state.GetValueOrDefault(node) == 0 && Visit(node) is { } cycle) return cycle;
        return null;
    }

    private static bool IsBuildOutput(string path) =>
        path.Split(Path.DirectorySeparatorChar).Any(part => part is "bin" or "obj");

    private static string RepositoryRoot()
    {
        for (var dir = new DirectoryInfo(AppContext.BaseDirectory); dir is not null; dir = dir.Parent)
            if (File.Exists(Path.Combine(dir.FullName, "Generalist.sln"))) return dir.FullName;
        throw new InvalidOperationException($"no Generalist.sln above {AppContext.BaseDirectory}");
    }

    [GeneratedRegex(@"/\*.*?\*/|//[^\n]*", RegexOptions.Singleline)]
    private static partial Regex Comments();

    [GeneratedRegex(@"@?""(?:[^""\\\n]|\\.)*""")]
    private static partial Regex Strings();
}
