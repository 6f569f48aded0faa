using System.Diagnostics;
using Generalist.Distributed;
using Generalist.Service.Kernel;
using Generalist.Service.Jobs;
using Generalist.Training;
using Generalist.Training.Loop;
using Generalist.Training.Ownership;
using Generalist.Training.Tests;
using Microsoft.Extensions.Logging.Abstractions;
using Microsoft.Extensions.Options;
using Xunit.Abstractions;
using Generalist.RunFormat;
using Generalist.TestSupport;

namespace Generalist.Reliability.Tests;

/// <summary>
/// Issue 18, scenario 13: no trainer outlives its service. A launched job's ranks hold a lease
/// (<see cref="ServiceLease"/>) the service renews every second; when the service dies the lease
/// lapses and each rank stops at its next step with a checkpoint, releasing the run directory, so
/// the next service can resume the run from there (and until then refuses to: scenario 12).
/// </summary>
public class Scenario13OrphanTrainers(ITestOutputHelper output)
{
    private static Trainer WithLease(ServiceLease lease, List<string> log) => new(new TrainerOptions
    {
        Data = new SyntheticData(),
        Model = SyntheticData.MicroModel,
        Log = log.Add,
        Lease = lease,
    });

    [Fact]
    public async Task A_trainer_whose_service_stops_renewing_its_lease_stops_with_a_checkpoint_and_releases_the_run()
    {
        var figures = new Figures(output, "13");
        using var dir = new TempDir("glease");
        var leaseFile = dir.File("lease");
        ServiceLease.Renew(leaseFile); // the service's last renewal; then it "dies"
        var lastRenewal = Stopwatch.StartNew();
        var log = new List<string>();
        var config = TrainerHarness.Config(100_000, c => c with { Checkpoint = new CheckpointConfig { Every = 0, KeepLast = 2 }, HeldOut = new HeldOutConfig { Every = 0 } });
        var result = await WithLease(new ServiceLease(leaseFile, TimeSpan.FromSeconds(1)), log).RunAsync(config, dir.File("run"), false, null, CancellationToken.None);
        figures.Add("lease of 1 s not renewed: trainer stopped after", lastRenewal.Elapsed.TotalSeconds, "s", $"stopped at step {result.FinalStep}, checkpoint written");

        Assert.Equal(TrainingOutcome.Cancelled, result.Outcome);
        Assert.InRange(result.FinalStep, 1, 99_999);
        Assert.EndsWith($"step-{result.FinalStep}", result.LastCheckpoint);
        Assert.Contains(log, l => l.Contains("lease") && l.Contains("the service is gone"));
        Assert.False(RunDirectoryLock.IsHeld(dir.File("run"), out _));
        var steps = MetricsLog.Read(Path.Combine(dir.File("run"), "metrics.jsonl")).Select(l => l.Step).ToList();
        Assert.Equal(Enumerable.Range(1, (int)result.FinalStep).Select(i => (long)i), steps);
    }

    [Fact]
    public async Task A_renewed_lease_lets_the_run_finish()
    {
        using var dir = new TempDir("glease");
        var leaseFile = dir.File("lease");
        ServiceLease.Renew(leaseFile);
        using var stop = new CancellationTokenSource();
        // A dedicated thread, not the thread pool: parallel tests can starve pool work for longer than a lease.
        var renewer = new Thread(() =>
        {
            while (!stop.IsCancellationRequested)
            {
                ServiceLease.Renew(leaseFile);
                stop.Token.WaitHandle.WaitOne(50);
            }
        }) { IsBackground = true };
        renewer.Start();
        var log = new List<string>();
        var clock = Stopwatch.StartNew();
        // Longer than the lease (so renewals are what keeps it going), with margin for a loaded machine.
        var result = await WithLease(new ServiceLease(leaseFile, TimeSpan.FromMilliseconds(1500)), log).RunAsync(TrainerHarness.Config(400), dir.File("run"), false, null, CancellationToken.None);
        await stop.CancelAsync();
        renewer.Join();
        output.WriteLine($"400 steps in {clock.Elapsed.TotalSeconds:F2} s");
        Assert.Equal(TrainingOutcome.Completed, result.Outcome);
        Assert.DoesNotContain(log, l => l.Contains("lease"));
    }

    [Fact]
    public void The_lease_is_judged_by_the_file_changing_on_the_readers_own_clock()
    {
        using var dir = new TempDir("glease");
        var path = dir.File("lease");
        var now = new DateTime(2026, 1, 1, 0, 0, 0, DateTimeKind.Utc);
        var lease = new ServiceLease(path, TimeSpan.FromSeconds(10), () => now);
        Assert.False(lease.Lapsed());   // no file yet, but the lease has only just begun
        now = now.AddSeconds(11);
        Assert.True(lease.Lapsed());    // never created: lapsed
        ServiceLease.Renew(path);
        File.SetLastWriteTimeUtc(path, new DateTime(1990, 1, 1, 0, 0, 0, DateTimeKind.Utc)); // a skewed clock on the service's host
        Assert.False(lease.Lapsed());   // it changed: renewed, whatever time it says
        now = now.AddSeconds(9);
        Assert.False(lease.Lapsed());
        now = now.AddSeconds(2);
        Assert.True(lease.Lapsed());
        Assert.Null(WithEnvironment(null, null, ServiceLease.FromEnvironment));
        var e = Assert.Throws<ConfigException>(() => WithEnvironment(path, "soon", ServiceLease.FromEnvironment));
        Assert.Contains(ServiceLease.SecondsVariable, e.Message);
        Assert.Equal(TimeSpan.FromSeconds(2.5), WithEnvironment(path, "2.5", ServiceLease.FromEnvironment)!.Length);
    }

    private static T WithEnvironment<T>(string? file, string? seconds, Func<T> read)
    {
        lock (typeof(ServiceLease))
        {
            Environment.SetEnvironmentVariable(ServiceLease.FileVariable, file);
            Environment.SetEnvironmentVariable(ServiceLease.SecondsVariable, seconds);
            try
            {
                return read();
            }
            finally
            {
                Environment.SetEnvironmentVariable(ServiceLease.FileVariable, null);
                Environment.SetEnvironmentVariable(ServiceLease.SecondsVariable, null);
            }
        }
    }

    [Fact]
    public async Task The_service_gives_launched_ranks_a_lease_and_renews_it_while_the_job_runs()
    {
        using var dir = new TempDir("glease-launch");
        var seen = dir.File("seen");
        var script = dir.File("rank.sh");
        // A stand-in rank: records the lease it was given and its modification time, twice, 2.5 s apart.
        File.WriteAllText(script, $"""
            echo "$GENERALIST_LEASE_FILE $GENERALIST_LEASE_SECONDS" > '{seen}'
            stat -c %Y.%y "$GENERALIST_LEASE_FILE" >> '{seen}'
            sleep 2.5
            stat -c %Y.%y "$GENERALIST_LEASE_FILE" >> '{seen}'
            """);
        var options = new ServiceOptions { DataRoot = dir.Path, Launcher = "env GENERALIST_TEST_RANKS={ranks} {command}", TrainProgram = $"/bin/sh '{script}'", LeaseSeconds = 7 };
        var launched = new LaunchedTrainer(Options.Create(options), NullLogger<LaunchedTrainer>.Instance);
        var run = dir.File("runs/job");
        var config = new RunConfig { Name = "job", Steps = 4, BatchSize = 4, Distributed = new DistributedConfig { Ranks = 2 } };
        await launched.RunAsync(config, run, false, new Progress<TrainingEvent>(), CancellationToken.None);

        var lines = File.ReadAllLines(seen);
        Assert.Equal($"{LaunchedTrainer.LeasePath(run)} 7", lines[0]);
        Assert.NotEqual(lines[1], lines[2]); // renewed while the job ran
    }
}
