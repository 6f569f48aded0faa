using Generalist.Datasets.Cache;
using Generalist.Envs;

namespace Generalist.Datasets.Sets;

/// <summary>
/// The real Sokoban levels of Debian cavepacker-data (`usr/share/games/cavepacker/maps/*.sok` with
/// their `.sol` solutions), parsed by the environment area's <see cref="SokobanFiles"/>. Only levels
/// with a solution short enough to finish within the environment's step limit are used, so every
/// demonstration solves its level. One level in ten (by a hash of its title, which starts with its
/// file name) is held out and never trained on.
/// </summary>
public static class SokobanLevelSet
{
    public static (IReadOnlyList<SokobanLevel> Train, IReadOnlyList<SokobanLevel> HeldOut) Load(PackageCache cache, int maxSteps = 1000, Action<string>? log = null)
    {
        var maps = Path.Combine(cache.Ensure(DataPackages.CavePacker, log), "usr", "share", "games", "cavepacker", "maps");
        return Split(SokobanFiles.Load(maps), maxSteps);
    }

    public static (IReadOnlyList<SokobanLevel> Train, IReadOnlyList<SokobanLevel> HeldOut) Split(IReadOnlyList<SokobanLevel> levels, int maxSteps = 1000)
    {
        var solvable = levels.Where(l => l.Solution is { } s && s.Length <= maxSteps).ToList();
        if (solvable.Count < 2) throw new InvalidDataException($"sokoban: only {solvable.Count} levels have a solution of at most {maxSteps} moves; need at least 2");
        var (train, heldOut) = StableSplit.Partition(solvable, l => l.Title);
        return (train, heldOut);
    }
}
