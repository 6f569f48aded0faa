using Generalist.Datasets;
using Generalist.Envs;
using Generalist.Evaluation.Scoring;
using Generalist.Evaluation.Statistics;
using Generalist.Model;
using static TorchSharp.torch;
using Generalist.RunFormat;

namespace Generalist.Evaluation;

/// <summary>A model loaded from a checkpoint with the run config it was trained with.</summary>
public sealed record LoadedCheckpoint(GeneralistModel Model, RunConfig Config, string Path) : IDisposable
{
    public void Dispose() => Model.Dispose();
}

/// <summary>What the evaluator reads; tests replace these with small in-memory stand-ins.</summary>
public sealed record EvaluatorOptions
{
    /// <summary>Loads a checkpoint directory onto a device; null = the trainer's checkpoint loader.</summary>
    public Func<string, Device, LoadedCheckpoint>? LoadCheckpoint { get; init; }
    /// <summary>A task's data for the run config that trained the checkpoint; null = the task catalog.</summary>
    public Func<string, RunConfig, TaskData>? LoadTask { get; init; }
    /// <summary>A fresh environment of a control task (held-out levels where a task has them); null = the task catalog's.</summary>
    public Func<string, RunConfig, IEnvironment>? CreateEnvironment { get; init; }
    /// <summary>The scripted expert of a control task's environment; null = the environment registry's.</summary>
    public Func<string, IPolicy>? CreateExpert { get; init; }
    /// <summary>Windows per forward pass when scoring sequences.</summary>
    public int ScoreBatch { get; init; } = 16;
    /// <summary>Environment copies stepped together in one KV cache.</summary>
    public int RolloutBatch { get; init; } = 16;
    /// <summary>
    /// How greedy rollouts read continuous action values from the bin distribution. Expected by
    /// default: the squared-error-optimal point estimate, which does not snap to one frequent bin.
    /// </summary>
    public ContinuousDecoding ContinuousDecoding { get; init; } = ContinuousDecoding.Expected;
    /// <summary>Seeded bootstrap of the normalized-score intervals (resamples, confidence, seed; the method is unused).</summary>
    public BootstrapOptions Bootstrap { get; init; } = new(Samples: 2000);
}
