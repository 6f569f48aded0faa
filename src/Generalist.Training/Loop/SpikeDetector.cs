using Generalist.RunFormat;

namespace Generalist.Training.Loop;

/// <summary>
/// Flags a loss above Factor x the mean of the last Window finite, non-spike losses and at least
/// MinRise nats above that mean, once at least MinHistory of them are known. The absolute rise
/// matters near zero: a specialist whose loss is 0.0004 moves by 20x on ordinary noise (0.03).
/// Spikes are not added to the history, so one spike cannot raise the bar for the next. Each loss
/// is kept with its step, so that a rollback forgets exactly the losses after the restored step.
/// </summary>
public sealed class SpikeDetector(SpikeConfig config)
{
    private readonly Queue<(long Step, double Loss)> _recent = new();

    public double RecentMean => _recent.Count == 0 ? double.NaN : _recent.Average(r => r.Loss);

    /// <summary>Records the finite loss of a step; returns true (and does not record it) when it is a spike.</summary>
    public bool Observe(long step, double loss)
    {
        if (!double.IsFinite(loss)) return false;
        if (config.Enabled && _recent.Count >= config.MinHistory && loss > config.Factor * RecentMean && loss - RecentMean >= config.MinRise)
            return true;
        _recent.Enqueue((step, loss));
        while (_recent.Count > config.Window) _recent.Dequeue();
        return false;
    }

    /// <summary>
    /// After a rollback to <paramref name="step"/>: forgets the losses of later steps. Compared with
    /// them, the restored model's own (higher) losses would look like spikes: rolled back to step 0,
    /// a run's very first loss was flagged and the run failed.
    /// </summary>
    public void RewindTo(long step)
    {
        var kept = _recent.Where(r => r.Step <= step).ToList();
        _recent.Clear();
        foreach (var r in kept) _recent.Enqueue(r);
    }

    public void Reset() => _recent.Clear();
}
