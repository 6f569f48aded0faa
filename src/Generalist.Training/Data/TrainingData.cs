using System.Text.Json;
using Generalist.Model;
using Generalist.Packing;
using Generalist.RunFormat;

namespace Generalist.Training.Data;

/// <summary>
/// The training stream as the trainer sees it: packed batches in a deterministic order with a
/// position that can be saved, restored and moved forward (for exact resume and for skipping the
/// batches around a loss spike).
/// </summary>
public interface IBatchSource
{
    /// <summary>Task names; batch task ids index this list.</summary>
    IReadOnlyList<string> TaskNames { get; }
    PackedBatch Next();
    /// <summary>The position: the next batch <see cref="Next"/> returns. Saved in trainer_state.json.</summary>
    JsonElement Cursor { get; }
    /// <summary>Returns to a saved position; throws InvalidDataException when the cursor belongs to other data.</summary>
    void Restore(JsonElement cursor);
    /// <summary>Moves the position forward by <paramref name="batches"/> without building them.</summary>
    void Skip(long batches);
}

/// <summary>
/// A batch source whose rows are each a pure function of (seed, batch number, row), so a
/// data-parallel rank can build only its own rows of the next global batch. The cursor still
/// counts global batches: identical on every rank and valid for any number of ranks.
/// </summary>
public interface IRowRangeBatchSource : IBatchSource
{
    /// <summary>Rows [firstRow, firstRow + rowCount) of the batch <see cref="IBatchSource.Next"/> would return; moves the cursor by one batch.</summary>
    PackedBatch NextRows(int firstRow, int rowCount);
}

/// <summary>Fixed held-out batches per task: the same batches at every evaluation, so losses compare.</summary>
public interface IHeldOutSource
{
    IReadOnlyList<string> Tasks { get; }
    /// <summary>Held-out batch <paramref name="index"/> of one task (only that task's sequences).</summary>
    PackedBatch Batch(string task, int index);
}

/// <summary>Everything a run reads.</summary>
public sealed record TrainingData(IBatchSource Train, IHeldOutSource? HeldOut);

/// <summary>Builds a run's data from its config and the model it feeds.</summary>
public interface ITrainingDataFactory
{
    TrainingData Create(RunConfig config, ModelConfig model, Action<string>? log);
}
