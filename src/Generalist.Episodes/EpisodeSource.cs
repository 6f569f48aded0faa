namespace Generalist.Episodes;

/// <summary>The families of tasks; decides how a task is scored and whether it is prompted.</summary>
public enum TaskFamily
{
    /// <summary>Environment trajectories with discrete or continuous actions; prompted with a demonstration.</summary>
    Control,
    /// <summary>Images with words (captions, class descriptions).</summary>
    VisionLanguage,
    /// <summary>Plain text.</summary>
    Language,
    /// <summary>In-context learning: regression, rating prediction.</summary>
    InContext,
}

/// <summary>
/// Random access to a task's episodes (in memory, generated, or read from a shard). Deterministic:
/// Get(i) returns the same episode every time. The data loader only reads through this.
/// </summary>
public interface IEpisodeSource
{
    string Task { get; }
    TaskFamily Family { get; }
    int Count { get; }
    Episode Get(int index);
}

/// <summary>
/// An episode source whose training episodes change with training progress (a curriculum): the
/// loader asks for <see cref="Get(int, int)"/> at the stage of the batch's training step. Episodes
/// stay pure functions of (index, stage), so batches stay pure functions of the batch number.
/// </summary>
public interface IStagedEpisodeSource : IEpisodeSource
{
    /// <summary>Number of stages; 1 = not staged (the loader then reads <see cref="IEpisodeSource.Get"/> through its cache).</summary>
    int StageCount { get; }
    /// <summary>The stage that training step <paramref name="step"/> trains on.</summary>
    int StageAt(long step);
    Episode Get(int index, int stage);
}

/// <summary>An episode source over a list already in memory.</summary>
public sealed class InMemoryEpisodeSource(string task, TaskFamily family, IReadOnlyList<Episode> episodes) : IEpisodeSource
{
    public string Task { get; } = task;
    public TaskFamily Family { get; } = family;
    public int Count => episodes.Count;
    public Episode Get(int index) => episodes[index];
}
