namespace Generalist.Service.Jobs;

/// <summary>Progress that streams every report but persists at most once a second (and on Flush).</summary>
public sealed class ThrottledProgress<T>(TimeProvider clock, Action<T> persist, Action<T> publish) : IProgress<T> where T : class
{
    private readonly Lock _gate = new();
    private long _last = long.MinValue;
    private T? _pending;

    public void Report(T value)
    {
        publish(value);
        lock (_gate)
        {
            var now = clock.GetTimestamp();
            if (_last != long.MinValue && clock.GetElapsedTime(_last, now) < TimeSpan.FromSeconds(1))
            {
                _pending = value;
                return;
            }
            _last = now;
            _pending = null;
        }
        persist(value);
    }

    public void Flush()
    {
        T? pending;
        lock (_gate) (pending, _pending) = (_pending, null);
        if (pending is not null) persist(pending);
    }
}
