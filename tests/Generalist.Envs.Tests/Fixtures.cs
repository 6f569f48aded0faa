using Generalist.Envs;
using Generalist.Episodes;

namespace Generalist.Envs.Tests;

/// <summary>Small Sokoban levels and solutions written by the tests, in the cavepacker-data formats.</summary>
internal static class Fixtures
{
    // Two levels in one file: a ';' comment titles the first, a "Title:" line after the second
    // board titles it, and a Comment ... Comment-End block (whose text must not be read as a
    // board) follows, as in the cavepacker-data files.
    public const string TwoLevels = """
        ; 1 'Corridor'

        #######
        #@ $ .#
        #######

        ########
        #  .   #
        # $##  #
        #@     #
        ########
        Author: Tests
        Title: Corner
        Comment:
        #### not a board
        Comment-End:
        """;

    // Corridor: step right, then push the box right twice onto the goal.
    public const string CorridorSolution = "r2R";

    /// <summary>A level with two boxes whose solution uses a repeat group: 2(...).</summary>
    public const string TwoBoxes = """
        #########
        #@$ .   #
        #  $  . #
        #########
        """;

    public static IReadOnlyList<SokobanLevel> Levels()
    {
        var corridor = SokobanLevel.ParseMany(TwoLevels, "fixture")[0];
        var twoBoxes = SokobanLevel.Parse(TwoBoxes, "two-boxes");
        return
        [
            corridor with { Solution = SokobanSolution.Parse(CorridorSolution) },
            twoBoxes with { Solution = SokobanSolution.Parse(TwoBoxesSolution) },
        ];
    }

    // Push box 1 two cells right onto its goal at column 4 (a repeat group), step left and down
    // to stand left of box 2, then push it right three cells onto the goal at column 6.
    public const string TwoBoxesSolution = "2(R)ld3R";

    public static EnvOptions Options => new(SokobanLevels: Levels);

    public static IEnvironment Create(string name) => EnvRegistry.Create(name, Options);

    /// <summary>Runs one episode and returns every observation and reward, for comparisons.</summary>
    public static (List<Observation> Observations, List<float> Rewards) Trace(IEnvironment env, IPolicy policy, long seed)
    {
        policy.BeginEpisode(seed);
        var obs = env.Reset(seed);
        var observations = new List<Observation> { obs };
        var rewards = new List<float>();
        while (true)
        {
            var step = env.Step(policy.Act(obs, env));
            observations.Add(step.Observation);
            rewards.Add(step.Reward);
            obs = step.Observation;
            if (step.Done) return (observations, rewards);
        }
    }

    public static bool SameObservation(Observation a, Observation b) =>
        a.Text == b.Text
        && (a.Image is null ? b.Image is null : b.Image is not null && a.Image.Pixels.AsSpan().SequenceEqual(b.Image.Pixels))
        && (a.Discrete ?? []).AsSpan().SequenceEqual(b.Discrete ?? [])
        && (a.Continuous ?? []).AsSpan().SequenceEqual(b.Continuous ?? []);
}
