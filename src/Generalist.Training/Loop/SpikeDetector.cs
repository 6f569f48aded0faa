namespace Generalist.Training.Loop;

/// <summary>
/// Flags a loss above Factor x the mean of the last Window finite, non-spike losses, once at least
/// MinHistory of them are known. Spikes are not added to the history, so one spike cannot raise
/// the bar for the next.
/// </summary>
public sealed class SpikeDetector(SpikeConfig config)
{
    private readonly Queue<double> _recent = new();

    public double RecentMean => _recent.Count == 0 ? double.NaN : _recent.Average();

    /// <summary>Records a finite loss; returns true (and does not record it) when it is a spike.</summary>
    public bool Observe(double loss)
    {
        if (!double.IsFinite(loss)) return false;
        if (config.Enabled && _recent.Count >= config.MinHistory && loss > config.Factor * RecentMean) return true;
        _recent.Enqueue(loss);
        while (_recent.Count > config.Window) _recent.Dequeue();
        return false;
    }

    public void Reset() => _recent.Clear();
}
