namespace Generalist.Envs;

/// <summary>
/// Reads Sokoban levels from disk: a .sok file, or every .sok file of a directory (sorted by
/// name). When NAME.sol lies beside NAME.sok and the .sok holds one level (the cavepacker-data
/// layout), that solution is attached to the level. Levels that are not single-player puzzles
/// (cavepacker's multiplayer maps) are skipped and reported, not failed on.
/// </summary>
public static class SokobanFiles
{
    public static IReadOnlyList<SokobanLevel> Load(string path) => Load(path, out _);

    public static IReadOnlyList<SokobanLevel> Load(string path, out IReadOnlyList<string> skipped)
    {
        var skippedLevels = new List<string>();
        skipped = skippedLevels;
        string[] files;
        if (Directory.Exists(path))
        {
            files = Directory.GetFiles(path, "*.sok").OrderBy(f => f, StringComparer.Ordinal).ToArray();
            if (files.Length == 0) throw new FileNotFoundException($"levels: no .sok files in {path}");
        }
        else if (File.Exists(path)) files = [path];
        else throw new FileNotFoundException($"levels: {path} is neither a .sok file nor a directory");

        var levels = new List<SokobanLevel>();
        foreach (var file in files)
        {
            var name = Path.GetFileNameWithoutExtension(file);
            var all = SokobanLevel.ParseMany(File.ReadAllText(file), name, validate: false);
            foreach (var multi in all.Where(l => l.Players > 1)) skippedLevels.Add($"{file}: '{multi.Title}' is a multiplayer level");
            var parsed = all.Where(l => l.Players <= 1).ToList();
            foreach (var level in parsed) level.Validate(file);
            if (all.Count == 0) throw new InvalidDataException($"levels: {file} holds no Sokoban level");
            var solutionFile = Path.ChangeExtension(file, ".sol");
            if (all.Count == 1 && parsed.Count == 1 && File.Exists(solutionFile))
                parsed = [parsed[0] with { Solution = SokobanSolution.Parse(File.ReadAllText(solutionFile), solutionFile) }];
            levels.AddRange(parsed.Select(l => l.Title.StartsWith(name, StringComparison.Ordinal) ? l : l with { Title = $"{name}: {l.Title}" }));
        }
        return levels;
    }
}
