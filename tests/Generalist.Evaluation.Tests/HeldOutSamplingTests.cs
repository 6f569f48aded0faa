using Generalist.Evaluation.Scoring;
using Generalist.Episodes;

namespace Generalist.Evaluation.Tests;

public class HeldOutSamplingTests
{
    private static InMemoryEpisodeSource Source(int count) => new("text", TaskFamily.Language,
        Enumerable.Range(0, count).Select(i => new Episode("text", [new Timestep(new Observation(Text: $"episode {i}"))])).ToList());

    private static IEnumerable<string> Texts(IEnumerable<Episode> episodes) => episodes.Select(e => e.Timesteps[0].Observation.Text!);

    [Fact]
    public void A_budget_smaller_than_the_split_is_spread_evenly_over_it()
    {
        // Held-out splits are in document order: the budget must reach past the first document.
        var taken = HeldOutSample.Spread(Source(100), 8);
        Assert.Equal(["episode 0", "episode 12", "episode 25", "episode 37", "episode 50", "episode 62", "episode 75", "episode 87"], Texts(taken));
    }

    [Fact]
    public void A_budget_at_least_the_split_takes_every_episode_in_order()
    {
        Assert.Equal(Enumerable.Range(0, 5).Select(i => $"episode {i}"), Texts(HeldOutSample.Spread(Source(5), 8)));
        Assert.Equal(Enumerable.Range(0, 5).Select(i => $"episode {i}"), Texts(HeldOutSample.Spread(Source(5), 5)));
    }
}
