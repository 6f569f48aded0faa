using Generalist.RunFormat;

namespace Generalist.Training.Optim;

/// <summary>Linear warmup from 0 to the peak, then cosine decay to MinLrRatio x peak at the last step (nanoGPT, Gato).</summary>
public sealed record LearningRateSchedule(double Peak, int WarmupSteps, int TotalSteps, double MinLrRatio)
{
    public static LearningRateSchedule From(RunConfig config) =>
        new(config.Optimizer.LearningRate, config.Optimizer.WarmupSteps, config.Steps, config.Optimizer.MinLrRatio);

    /// <summary>Learning rate for optimizer step <paramref name="step"/> (1-based: the first update is step 1).</summary>
    public double At(long step)
    {
        var min = Peak * MinLrRatio;
        if (WarmupSteps > 0 && step <= WarmupSteps) return Peak * step / WarmupSteps;
        if (step >= TotalSteps) return min;
        var progress = (double)(step - WarmupSteps) / Math.Max(1, TotalSteps - WarmupSteps);
        return min + 0.5 * (Peak - min) * (1 + Math.Cos(Math.PI * progress));
    }
}
