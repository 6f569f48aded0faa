using Generalist.Torch;

namespace Generalist.Distributed;

/// <summary>
/// Everything a training process needs to take part in a job: its place (rank, world), a
/// communicator whose collectives run under the watchdog, and its data shard. Created once at
/// start; disposing it finalises MPI.
/// </summary>
public sealed class DistributedContext : IDisposable
{
    public MpiEnvironment Environment { get; }
    public ICommunicator Communicator { get; }
    public CollectiveWatchdog? Watchdog { get; }
    public DataShard Shard { get; }
    public int Rank => Communicator.Rank;
    public int WorldSize => Communicator.WorldSize;
    /// <summary>Rank 0 alone writes checkpoints, metrics.jsonl and reports.</summary>
    public bool IsRoot => Communicator.Rank == 0;

    private DistributedContext(MpiEnvironment environment, ICommunicator communicator, CollectiveWatchdog? watchdog)
    {
        Environment = environment;
        Communicator = communicator;
        Watchdog = watchdog;
        Shard = DataShard.Of(communicator);
    }

    /// <summary>A context over an existing communicator (ranks simulated in one process, tests), without a watchdog.</summary>
    public static DistributedContext FromCommunicator(ICommunicator communicator) =>
        new(new MpiEnvironment(communicator.WorldSize, communicator.Rank, communicator.Rank, communicator.WorldSize, communicator.Backend), communicator, null);

    /// <summary>A world of one with no MPI (tests, single-process runs).</summary>
    public static DistributedContext Local() => new(MpiEnvironment.Single, new LocalCommunicator(), null);

    /// <summary>
    /// Joins the job the environment describes (NCCL needs CUDA tensors; "auto" picks it on CUDA); heartbeats go under
    /// runDirectory/distributed/heartbeat (the run directory must be shared between machines, as it
    /// must be for resuming from rank 0's checkpoints anyway).
    /// </summary>
    public static DistributedContext Create(DistributedConfig config, ComputeDevice device, string? runDirectory, MpiEnvironment? environment = null)
    {
        var env = environment ?? MpiEnvironment.FromEnvironment();
        var backend = config.Backend switch
        {
            "auto" when !env.IsDistributed => "local",
            "auto" => device == ComputeDevice.Cuda ? "nccl" : "mpi",
            var b => b,
        };
        if (backend == "local")
        {
            if (env.IsDistributed)
                throw new DistributedException($"distributed.backend is \"local\" but the {env.Launcher} launcher started {env.WorldSize} ranks; use \"auto\"");
            return Local();
        }
        if (backend == "nccl" && device != ComputeDevice.Cuda)
            throw new DistributedException("distributed.backend \"nccl\" needs device \"cuda\" (use \"mpi\" or \"auto\" on CPU)");

        var mpi = MpiCommunicator.Initialize();
        if (env.Launcher != MpiEnvironment.LauncherNone && (mpi.WorldSize != env.WorldSize || mpi.Rank != env.Rank))
            throw new DistributedException(
                $"MPI reports rank {mpi.Rank} of {mpi.WorldSize} but the {env.Launcher} environment says rank {env.Rank} of {env.WorldSize}. " +
                "Fix: launch with mpirun, or srun --mpi=pmix so Open MPI sees the Slurm job.");
        ICommunicator inner = backend == "nccl" ? NcclCommunicator.Create(mpi, env.LocalRank) : mpi;

        // A job token from rank 0 tells this job's heartbeats from those a previous job left behind.
        var job = inner.Broadcast(mpi.Rank == 0 ? Guid.NewGuid().ToString("N") : null, 0);
        var heartbeat = runDirectory is null ? null : Path.Combine(runDirectory, "distributed", "heartbeat");
        var watchdog = new CollectiveWatchdog(inner, TimeSpan.FromSeconds(config.TimeoutSeconds), heartbeat, job);
        return new DistributedContext(env with { Rank = mpi.Rank, WorldSize = mpi.WorldSize }, new WatchedCommunicator(inner, watchdog), watchdog);
    }

    public void Dispose() => Communicator.Dispose();
}
