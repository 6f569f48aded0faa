using Generalist.Model;
using Generalist.Training.Data;
using Generalist.RunFormat;

namespace Generalist.Cli.Commands.Bench;

/// <summary>
/// Seeded random text-token batches at the model's context length, for benchmarks that time what
/// happens around a real training step (the step's cost depends on the shapes, not on the data).
/// </summary>
internal sealed class BenchTokenData : ITrainingDataFactory
{
    public TrainingData Create(RunConfig config, ModelConfig model, Action<string>? log)
    {
        var tasks = config.Tasks.Select(t => t.Name).ToArray();
        var length = config.ContextLength > 0 ? config.ContextLength : model.ContextLength;
        return new TrainingData(new RandomTokenBatches(config.BatchSize, length, Math.Min(model.VocabSize, 8192), config.Seed, tasks, localPeriod: 16, model.PatchSize), null);
    }
}
