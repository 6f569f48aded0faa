using Generalist.Service.Kernel;
using Generalist.Service.Telemetry;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Options;

namespace Generalist.Service.Scheduling;

/// <summary>
/// A bounded FIFO of jobs (runs, evaluations, studies) and a fixed number of workers. Hand-written
/// rather than a Channel because a queued job must be removable by key (CancelRun) and the queue
/// length must be checked and reserved atomically with the registry insert.
/// </summary>
public sealed class JobScheduler : IHostedService, IDisposable, IQueueLength
{
    private readonly Lock _gate = new();
    private readonly LinkedList<Job> _queue = new();
    private readonly Dictionary<string, Job> _running = new(StringComparer.Ordinal);
    private readonly SemaphoreSlim _pending = new(0);
    private readonly CancellationTokenSource _stopping = new();
    private readonly int _capacity;
    private readonly int _concurrency;
    private readonly ILogger<JobScheduler> _log;
    private readonly List<Task> _workers = [];
    private int _reserved;
    private int _disposed;

    public JobScheduler(IOptions<ServiceOptions> options, ILogger<JobScheduler> log)
    {
        _capacity = options.Value.QueueCapacity;
        _concurrency = options.Value.MaxConcurrentRuns;
        _log = log;
    }

    public int Capacity => _capacity;

    public int QueuedCount
    {
        get { lock (_gate) return _queue.Count; }
    }

    public int RunningCount
    {
        get { lock (_gate) return _running.Count; }
    }

    /// <summary>Holds one queue slot (so the registry insert that follows cannot overfill the queue).</summary>
    public Reservation? TryReserve()
    {
        lock (_gate)
        {
            if (_stopping.IsCancellationRequested) return null;
            // Free workers take jobs at once, so they count as room too.
            var freeWorkers = Math.Max(0, _concurrency - _running.Count);
            if (_queue.Count + _reserved >= _capacity + freeWorkers) return null;
            _reserved++;
            return new Reservation(this);
        }
    }

    /// <summary>Enqueues without a capacity check: jobs recovered from the registry at start are never dropped.</summary>
    public void EnqueueRecovered(string key, Func<CancellationToken, Task> body) => Add(new Job(key, body), reserved: false);

    /// <summary>Drops a job that has not started; false when it is not queued.</summary>
    public bool TryRemoveQueued(string key)
    {
        lock (_gate)
        {
            for (var node = _queue.First; node is not null; node = node.Next)
            {
                if (node.Value.Key != key) continue;
                _queue.Remove(node);
                _pending.Wait(0); // keep the semaphore's count equal to the queue length
                return true;
            }
            return false;
        }
    }

    /// <summary>Signals a started job to stop at its next step boundary; false when it is not running.</summary>
    public bool TryCancelRunning(string key)
    {
        Job? job;
        lock (_gate) _running.TryGetValue(key, out job);
        if (job is null) return false;
        job.Cancel();
        return true;
    }

    public bool IsQueuedOrRunning(string key)
    {
        lock (_gate) return _running.ContainsKey(key) || _queue.Any(j => j.Key == key);
    }

    public Task StartAsync(CancellationToken cancellationToken)
    {
        for (var i = 0; i < _concurrency; i++) _workers.Add(Task.Run(WorkAsync, CancellationToken.None));
        return Task.CompletedTask;
    }

    /// <summary>Stops taking jobs, asks the running ones to stop (runs checkpoint), waits for them.</summary>
    public async Task StopAsync(CancellationToken cancellationToken)
    {
        Job[] running;
        lock (_gate)
        {
            _stopping.Cancel();
            running = [.. _running.Values];
        }
        foreach (var job in running) job.Cancel();
        try
        {
            await Task.WhenAll(_workers).WaitAsync(cancellationToken);
        }
        catch (OperationCanceledException)
        {
            Log.ShutdownGraceExceeded(_log, running.Length);
        }
    }

    public void Dispose()
    {
        // Registered both as a singleton and as a hosted service: disposed twice.
        if (Interlocked.Exchange(ref _disposed, 1) == 1) return;
        _stopping.Cancel();
        _stopping.Dispose();
        _pending.Dispose();
    }

    private void Add(Job job, bool reserved)
    {
        lock (_gate)
        {
            if (reserved) _reserved--;
            _queue.AddLast(job);
        }
        _pending.Release();
    }

    private async Task WorkAsync()
    {
        while (true)
        {
            try
            {
                await _pending.WaitAsync(_stopping.Token);
            }
            catch (OperationCanceledException)
            {
                return;
            }
            Job job;
            lock (_gate)
            {
                if (_stopping.IsCancellationRequested || _queue.First is null) continue;
                job = _queue.First.Value;
                _queue.RemoveFirst();
                _running[job.Key] = job;
            }
            try
            {
                await job.Body(job.Token);
            }
            catch (Exception e)
            {
                // Job bodies record their own failures; this only keeps a bug from killing the worker.
                Log.JobCrashed(_log, job.Key, e);
            }
            finally
            {
                lock (_gate) _running.Remove(job.Key);
                job.Dispose();
            }
        }
    }

    /// <summary>One held queue slot: Commit enqueues the job; Dispose without commit gives the slot back.</summary>
    public sealed class Reservation(JobScheduler owner) : IDisposable
    {
        private bool _done;

        public void Commit(string key, Func<CancellationToken, Task> body)
        {
            if (_done) throw new InvalidOperationException("reservation already used");
            _done = true;
            owner.Add(new Job(key, body), reserved: true);
        }

        public void Dispose()
        {
            if (_done) return;
            _done = true;
            lock (owner._gate) owner._reserved--;
        }
    }

    private sealed class Job(string key, Func<CancellationToken, Task> body) : IDisposable
    {
        private readonly CancellationTokenSource _cts = new();
        public string Key { get; } = key;
        public Func<CancellationToken, Task> Body { get; } = body;
        public CancellationToken Token => _cts.Token;

        public void Cancel()
        {
            try { _cts.Cancel(); } catch (ObjectDisposedException) { /* finished meanwhile */ }
        }

        public void Dispose() => _cts.Dispose();
    }
}
