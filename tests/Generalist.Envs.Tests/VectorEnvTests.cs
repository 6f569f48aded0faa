using Generalist.Envs;
using Generalist.Episodes;

namespace Generalist.Envs.Tests;

public class VectorEnvTests
{
    [Theory]
    [InlineData("cartpole", 1)]
    [InlineData("pendulum", 1)]
    [InlineData("catch", 1)]
    [InlineData("gridnav", 2)]
    [InlineData("sokoban", 1)]
    public void Batched_rollouts_equal_sequential_ones(string name, int parallelism)
    {
        var sequential = Rollouts.Collect(Fixtures.Create(name), EnvRegistry.Expert(name), 7, seed: 11, task: name);
        using var vector = VectorEnv.Create(() => Fixtures.Create(name), 3, parallelism);
        var batched = Rollouts.CollectBatched(vector, _ => EnvRegistry.Expert(name), 7, seed: 11, task: name);
        Assert.Equal(sequential.Count, batched.Count);
        for (var i = 0; i < sequential.Count; i++)
        {
            Assert.Equal(sequential[i].Timesteps.Select(t => t.Reward), batched[i].Timesteps.Select(t => t.Reward));
            Assert.All(sequential[i].Timesteps.Zip(batched[i].Timesteps),
                p => Assert.True(Fixtures.SameObservation(p.First.Observation, p.Second.Observation)));
        }
        var random = Rollouts.CollectBatched(vector, k => new RandomPolicy(5), 4, seed: 3, task: name);
        var randomSequential = Rollouts.Collect(Fixtures.Create(name), new RandomPolicy(5), 4, seed: 3, task: name);
        Assert.Equal(randomSequential.Select(e => e.Return), random.Select(e => e.Return));
    }

    [Fact]
    public void Finished_copies_idle_until_reset_and_refuse_actions()
    {
        using var vector = VectorEnv.Create(() => new CatchEnv(), 2);
        vector.Reset(0);
        var stay = ActionValue.OfDiscrete(1);
        VectorStepResult step = null!;
        for (var i = 0; i < CatchEnv.Rows - 1; i++) step = vector.Step([stay, stay]);
        Assert.True(step.Terminated.All(t => t));
        Assert.False(vector.IsActive(0));
        Assert.Throws<ArgumentException>(() => vector.Step([stay, null]));
        var idle = vector.Step([null, null]);
        Assert.Equal([0f, 0f], idle.Rewards);
        Assert.Same(step.Observations[0], idle.Observations[0]);
        vector.ResetAt(1, 9);
        Assert.Throws<ArgumentException>(() => vector.Step([null, null])); // copy 1 runs again: it needs an action
        Assert.Throws<ArgumentException>(() => vector.Step([stay])); // wrong count
    }
}
