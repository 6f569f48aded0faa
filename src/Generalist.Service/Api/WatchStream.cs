using Generalist.Service.Jobs;
using Generalist.Service.Registry;
using Generalist.Service.Scheduling;
using Grpc.Core;

namespace Generalist.Service.Api;

/// <summary>The Watch RPCs: a job's events (<see cref="EventHub{T}.Watch"/>: its snapshot first) written to the stream as messages.</summary>
internal static class WatchStream
{
    public static async Task WriteAsync<TRecord, TMessage>(EventHub<JobEvent<TRecord>> hub, string name, Func<string, TRecord> get,
        Func<JobEvent<TRecord>, TMessage> toProto, IServerStreamWriter<TMessage> responseStream, ServerCallContext context) where TRecord : IJobRecord
    {
        JobNames.Require(name);
        await foreach (var e in hub.Watch(name, () => JobEvents.Snapshot(get(name)), context.CancellationToken))
            await responseStream.WriteAsync(toProto(e), context.CancellationToken);
    }
}
