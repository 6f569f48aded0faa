using Generalist.Model;
using Generalist.Torch;
using Generalist.Training.Data;
using static TorchSharp.torch;

namespace Generalist.Training.Loop;

/// <summary>Mean loss per task over fixed held-out batches, without gradients, in the run's precision.</summary>
public sealed class HeldOutEvaluator(GeneralistModel model, IHeldOutSource source, int batchesPerTask, Precision precision, Device device)
{
    public IReadOnlyDictionary<string, double> Evaluate()
    {
        var result = new Dictionary<string, double>(StringComparer.Ordinal);
        var wasTraining = model.training;
        model.eval();
        try
        {
            using var _ = no_grad();
            foreach (var task in source.Tasks)
            {
                using var scope = NewDisposeScope();
                var sum = zeros(Array.Empty<long>(), ScalarType.Float32, device);
                var count = zeros(Array.Empty<long>(), ScalarType.Float32, device);
                for (var i = 0; i < batchesPerTask; i++)
                {
                    var batch = source.Batch(task, i);
                    var inputs = ModelInputs.From(batch, device);
                    var targets = LossTargets.From(batch, device);
                    using (precision.Autocast(device.type))
                    {
                        var output = model.Loss(inputs, targets);
                        sum.add_(output.Sum);
                        count.add_(output.Count);
                    }
                }
                var values = stack([sum, count]).cpu().data<float>().ToArray();
                if (values[1] > 0) result[task] = values[0] / values[1];
            }
        }
        finally
        {
            if (wasTraining) model.train();
        }
        return result;
    }
}
