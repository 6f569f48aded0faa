using Generalist.Episodes;

namespace Generalist.Tokenizers.Tests;

/// <summary>Seeded episode generators shared by the tests.</summary>
internal static class Fixtures
{
    public static readonly VocabularyLayout Vocab = VocabularyLayout.Default;

    /// <summary>
    /// A control episode whose observation starts with discrete [episodeId, t] so tests can read
    /// back where every timestep of a packed row came from; then obsDim continuous values.
    /// </summary>
    public static Episode Control(string task, int episodeId, int length, int obsDim, int actionDim, Random rng, bool continuousAction = false)
    {
        var steps = new Timestep[length];
        for (var t = 0; t < length; t++)
        {
            var cont = new float[obsDim];
            for (var i = 0; i < obsDim; i++) cont[i] = (float)((rng.NextDouble() * 2 - 1) * Math.Pow(10, rng.Next(-2, 3)));
            ActionValue action;
            if (continuousAction)
            {
                var a = new float[actionDim];
                for (var i = 0; i < actionDim; i++) a[i] = (float)(rng.NextDouble() * 2 - 1);
                action = ActionValue.OfContinuous(a);
            }
            else
            {
                var a = new int[actionDim];
                for (var i = 0; i < actionDim; i++) a[i] = rng.Next(0, 6);
                action = ActionValue.OfDiscrete(a);
            }
            steps[t] = new Timestep(new Observation(Discrete: [episodeId, t], Continuous: cont), action, (float)rng.NextDouble());
        }
        return new Episode(task, steps);
    }

    public static InMemoryEpisodeSource ControlSource(string task, int episodes, int minLength, int maxLength, int obsDim, int actionDim, int seed)
    {
        var rng = new Random(seed);
        var list = new List<Episode>();
        for (var e = 0; e < episodes; e++) list.Add(Control(task, e, rng.Next(minLength, maxLength + 1), obsDim, actionDim, rng));
        return new InMemoryEpisodeSource(task, TaskFamily.Control, list);
    }

    public static ImageData RandomImage(int height, int width, int channels, Random rng)
    {
        var pixels = new byte[height * width * channels];
        rng.NextBytes(pixels);
        return new ImageData(height, width, channels, pixels);
    }

    public static readonly string[] Sentences =
    [
        "Call me Ishmael. Some years ago—never mind how long precisely—having little or no money in my purse,",
        "Fellow-Citizens of the Senate and House of Representatives:",
        "  two leading spaces, a\ttab, and  double  spaces  ",
        "Unicode: café, naïve, 東京, emoji 🐋, math ∑ x² ≤ ∞",
        "The whale! The whale! Towards thee I roll, thou all-destroying but unconquering whale;",
        "",
        "1790: $12,345.67 — 100% (approx.) [sic] {braces} <angle> back\\slash \"quotes\" 'single'",
    ];

    public static InMemoryEpisodeSource TextSource(string task, int documents, int seed)
    {
        var rng = new Random(seed);
        var list = new List<Episode>();
        for (var d = 0; d < documents; d++)
        {
            var words = Enumerable.Range(0, rng.Next(5, 400)).Select(_ => Sentences[rng.Next(Sentences.Length)]);
            list.Add(new Episode(task, [new Timestep(new Observation(Text: string.Join(' ', words)))]));
        }
        return new InMemoryEpisodeSource(task, TaskFamily.Language, list);
    }
}
