using System.Diagnostics;

namespace Generalist.Distributed.Tests;

public sealed class WatchdogTests : IDisposable
{
    private readonly string _dir = Path.Combine(Path.GetTempPath(), "generalist-watchdog-" + Guid.NewGuid().ToString("N"));
    private readonly InProcessGroup _group = new(2);

    public void Dispose()
    {
        _group.Dispose();
        if (Directory.Exists(_dir)) Directory.Delete(_dir, recursive: true);
    }

    private static string? WaitFor(Func<string?> read, TimeSpan limit)
    {
        var watch = Stopwatch.StartNew();
        while (watch.Elapsed < limit)
        {
            if (read() is { } value) return value;
            Thread.Sleep(20);
        }
        return null;
    }

    [Fact]
    public void A_rank_that_never_reaches_the_collective_is_named_within_the_timeout()
    {
        string? message = null;
        var watch = Stopwatch.StartNew();
        using var waiting = new CollectiveWatchdog(_group.Rank(0), TimeSpan.FromSeconds(1), _dir, "job-a", m => message = m);
        using var busy = new CollectiveWatchdog(_group.Rank(1), TimeSpan.FromSeconds(1), _dir, "job-a", _ => { });
        waiting.Step = 7;
        using var _ = waiting.Enter("all_reduce");   // rank 1 never enters: it is "busy" forever
        var text = WaitFor(() => message, TimeSpan.FromSeconds(10));
        Assert.NotNull(text);
        Assert.InRange(watch.Elapsed.TotalSeconds, 1.0, 5.0);
        Assert.Contains("rank 0 waited", text);
        Assert.Contains("collective #1 'all_reduce' at step 7", text);
        Assert.Contains($"rank 1 (pid {Environment.ProcessId}", text);
        Assert.Contains("has not reached collective #1", text);
    }

    [Fact]
    public void A_rank_whose_heartbeat_stopped_is_reported_dead_or_frozen()
    {
        Directory.CreateDirectory(_dir);
        // What a killed rank leaves behind: an old heartbeat of a process that no longer exists.
        using var gone = Process.Start(new ProcessStartInfo("true") { UseShellExecute = false })!;
        gone.WaitForExit();
        new Heartbeat("job-b", 1, gone.Id, Environment.MachineName, 3, false, "all_reduce", 2,
            DateTimeOffset.UtcNow.AddSeconds(-30).ToUnixTimeMilliseconds()).Write(_dir);
        string? message = null;
        using var waiting = new CollectiveWatchdog(_group.Rank(0), TimeSpan.FromSeconds(1), _dir, "job-b", m => message = m);
        using var _ = waiting.Enter("all_reduce");
        var text = WaitFor(() => message, TimeSpan.FromSeconds(10));
        Assert.NotNull(text);
        Assert.Contains($"rank 1 (pid {gone.Id}", text);
        Assert.Contains("the process died or is frozen; its process is gone", text);
    }

    [Fact]
    public void A_heartbeat_from_another_job_does_not_count()
    {
        Directory.CreateDirectory(_dir);
        new Heartbeat("old-job", 1, Environment.ProcessId, Environment.MachineName, 99, true, "all_reduce", 9,
            DateTimeOffset.UtcNow.ToUnixTimeMilliseconds()).Write(_dir);
        string? message = null;
        using var waiting = new CollectiveWatchdog(_group.Rank(0), TimeSpan.FromSeconds(1), _dir, "new-job", m => message = m);
        using var _ = waiting.Enter("barrier");
        var text = WaitFor(() => message, TimeSpan.FromSeconds(10));
        Assert.Contains("rank 1 has no heartbeat from this job", text);
    }

    [Fact]
    public void Collectives_that_finish_in_time_never_trip_it()
    {
        string? message = null;
        using var watchdog = new CollectiveWatchdog(_group.Rank(0), TimeSpan.FromSeconds(0.5), _dir, "job-c", m => message = m);
        var watch = Stopwatch.StartNew();
        while (watch.Elapsed < TimeSpan.FromSeconds(1.5))
        {
            using (watchdog.Enter("all_reduce")) Thread.Sleep(50);
            Thread.Sleep(300); // time outside collectives does not count
        }
        Assert.Null(message);
        var beat = Heartbeat.TryRead(_dir, 0);
        Assert.NotNull(beat);
        Assert.True(beat.Collective >= 3, $"heartbeat at collective {beat.Collective}");
    }
}
