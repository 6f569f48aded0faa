using System.Collections.Immutable;
using System.Runtime.CompilerServices;
using System.Threading.Channels;

namespace Generalist.Service.Scheduling;

/// <summary>
/// Fans a job's events out to its Watch streams. Each subscriber has a bounded buffer that drops
/// its oldest events when a slow client falls behind, so a stalled stream never slows training;
/// the final event (written by <see cref="Complete"/>) always gets through.
/// </summary>
public sealed class EventHub<T> where T : class
{
    public const int BufferPerSubscriber = 1024;

    private readonly Lock _gate = new();
    private ImmutableDictionary<string, ImmutableArray<Channel<T>>> _subscribers = ImmutableDictionary<string, ImmutableArray<Channel<T>>>.Empty;

    public bool HasSubscribers(string key) => _subscribers.ContainsKey(key);

    public int SubscriberCount(string key) => _subscribers.TryGetValue(key, out var list) ? list.Length : 0;

    public Subscription Subscribe(string key)
    {
        var channel = Channel.CreateBounded<T>(new BoundedChannelOptions(BufferPerSubscriber)
        {
            FullMode = BoundedChannelFullMode.DropOldest,
            SingleReader = true,
            SingleWriter = false,
        });
        lock (_gate)
        {
            var list = _subscribers.TryGetValue(key, out var l) ? l : [];
            _subscribers = _subscribers.SetItem(key, list.Add(channel));
        }
        return new Subscription(this, key, channel);
    }

    /// <summary>
    /// What a Watch stream sends: first <paramref name="snapshot"/> (the key's state now), then the
    /// key's events until <see cref="Complete"/>; nothing after the snapshot when it says the key
    /// already rests. The subscription is taken before the snapshot is read, so an event between
    /// the two is not lost (at worst it repeats what the snapshot shows).
    /// </summary>
    public async IAsyncEnumerable<T> Watch(string key, Func<(T Event, bool Final)> snapshot, [EnumeratorCancellation] CancellationToken ct)
    {
        using var subscription = Subscribe(key);
        var (first, final) = snapshot();
        yield return first;
        if (final) yield break;
        await foreach (var e in subscription.Reader.ReadAllAsync(ct))
            yield return e;
    }

    /// <summary>Lock-free for the publisher: reads an immutable snapshot of the subscriber list.</summary>
    public void Publish(string key, T item)
    {
        if (!_subscribers.TryGetValue(key, out var list)) return;
        foreach (var channel in list) channel.Writer.TryWrite(item);
    }

    /// <summary>Sends the last event and ends every stream of this key.</summary>
    public void Complete(string key, T final)
    {
        ImmutableArray<Channel<T>> list;
        lock (_gate)
        {
            if (!_subscribers.TryGetValue(key, out list)) return;
            _subscribers = _subscribers.Remove(key);
        }
        foreach (var channel in list)
        {
            channel.Writer.TryWrite(final);
            channel.Writer.TryComplete();
        }
    }

    private void Unsubscribe(string key, Channel<T> channel)
    {
        lock (_gate)
        {
            if (!_subscribers.TryGetValue(key, out var list)) return;
            var rest = list.Remove(channel);
            _subscribers = rest.IsEmpty ? _subscribers.Remove(key) : _subscribers.SetItem(key, rest);
        }
        channel.Writer.TryComplete();
    }

    public sealed class Subscription(EventHub<T> hub, string key, Channel<T> channel) : IDisposable
    {
        public ChannelReader<T> Reader => channel.Reader;
        public void Dispose() => hub.Unsubscribe(key, channel);
    }
}
