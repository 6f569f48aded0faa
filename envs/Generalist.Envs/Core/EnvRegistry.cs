namespace Generalist.Envs;

/// <summary>
/// Options for creating environments. Sokoban needs levels: <see cref="SokobanLevels"/> supplies
/// them (the data area plugs the fetched cavepacker levels in here; tests pass their own).
/// </summary>
public sealed record EnvOptions(Func<IReadOnlyList<SokobanLevel>>? SokobanLevels = null, SokobanOptions? Sokoban = null);

/// <summary>One registered environment: how to build it and its scripted expert.</summary>
public sealed record EnvEntry(string Name, string Kind, Func<EnvOptions, IEnvironment> Create, Func<IPolicy> CreateExpert);

/// <summary>Every environment by name.</summary>
public static class EnvRegistry
{
    private static readonly EnvEntry[] Entries =
    [
        new("cartpole", "discrete", _ => new CartPoleEnv(), () => new CartPoleExpert()),
        new("mountaincar", "discrete", _ => new MountainCarEnv(), () => new MountainCarExpert()),
        new("acrobot", "discrete", _ => new AcrobotEnv(), () => new AcrobotExpert()),
        new("pendulum", "continuous", _ => new PendulumEnv(), () => new PendulumExpert()),
        new("reacher", "continuous", _ => new ReacherEnv(), () => new ReacherExpert()),
        new("catch", "discrete, pixels", _ => new CatchEnv(), () => new CatchExpert()),
        new("gridnav", "discrete, text + grid", _ => new GridNavEnv(), () => new GridNavExpert()),
        new("sokoban", "discrete, pixels", CreateSokoban, () => new SokobanExpert()),
    ];

    public static IReadOnlyList<string> Names { get; } = Entries.Select(e => e.Name).ToArray();

    public static IReadOnlyList<EnvEntry> All => Entries;

    public static EnvEntry Get(string name) =>
        Entries.FirstOrDefault(e => e.Name == name)
        ?? throw new ArgumentException($"unknown environment '{name}' (known: {string.Join(", ", Names)})");

    public static IEnvironment Create(string name, EnvOptions? options = null) => Get(name).Create(options ?? new EnvOptions());

    /// <summary>The scripted expert of the named environment.</summary>
    public static IPolicy Expert(string name) => Get(name).CreateExpert();

    private static IEnvironment CreateSokoban(EnvOptions options)
    {
        var provider = options.SokobanLevels
            ?? throw new ArgumentException("sokoban needs levels: give a level provider (EnvOptions.SokobanLevels, or --levels PATH on the command line)");
        return new SokobanEnv(provider(), options.Sokoban);
    }
}
