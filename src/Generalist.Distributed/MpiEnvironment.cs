namespace Generalist.Distributed;

/// <summary>
/// Where this process sits in a launched job, read from the launcher's environment variables:
/// Open MPI's mpirun (OMPI_COMM_WORLD_*), a PMI launcher such as MPICH's Hydra or srun --mpi=pmi2
/// (PMI_RANK/PMI_SIZE), or Slurm's srun (SLURM_PROCID/SLURM_NTASKS/SLURM_LOCALID). A process started
/// by none of them is a world of one.
/// </summary>
public sealed record MpiEnvironment(int WorldSize, int Rank, int LocalRank, int LocalSize, string Launcher)
{
    public const string LauncherNone = "none";

    public bool IsDistributed => WorldSize > 1;

    public static MpiEnvironment Single { get; } = new(1, 0, 0, 1, LauncherNone);

    /// <summary>Reads the current process's environment.</summary>
    public static MpiEnvironment FromEnvironment() =>
        FromVariables(name => Environment.GetEnvironmentVariable(name));

    /// <summary>Reads from any variable source (tests pass a dictionary). Throws on inconsistent values.</summary>
    public static MpiEnvironment FromVariables(Func<string, string?> get)
    {
        // Open MPI first: under mpirun inside a Slurm allocation both sets are present and
        // mpirun's describe the job that actually runs.
        if (TryRead(get, "OMPI_COMM_WORLD_SIZE", "OMPI_COMM_WORLD_RANK", out var size, out var rank))
        {
            var localRank = ReadOptional(get, "OMPI_COMM_WORLD_LOCAL_RANK") ?? 0;
            var localSize = ReadOptional(get, "OMPI_COMM_WORLD_LOCAL_SIZE") ?? 1;
            return Checked(size, rank, localRank, localSize, "openmpi");
        }
        if (TryRead(get, "PMI_SIZE", "PMI_RANK", out size, out rank))
        {
            var localRank = ReadOptional(get, "MPI_LOCALRANKID") ?? ReadOptional(get, "SLURM_LOCALID") ?? 0;
            var localSize = ReadOptional(get, "MPI_LOCALNRANKS") ?? ReadOptional(get, "SLURM_NTASKS_PER_NODE") ?? 1;
            return Checked(size, rank, localRank, localSize, "pmi");
        }
        if (TryRead(get, "SLURM_NTASKS", "SLURM_PROCID", out size, out rank))
        {
            var localRank = ReadOptional(get, "SLURM_LOCALID") ?? 0;
            var localSize = ReadOptional(get, "SLURM_NTASKS_PER_NODE") ?? 1;
            return Checked(size, rank, localRank, localSize, "slurm");
        }
        return Single;
    }

    private static MpiEnvironment Checked(int size, int rank, int localRank, int localSize, string launcher)
    {
        if (size < 1) throw new DistributedException($"{launcher}: world size must be >= 1 (got {size})");
        if (rank < 0 || rank >= size) throw new DistributedException($"{launcher}: rank must be in [0, {size - 1}] (got {rank})");
        if (localSize < 1) localSize = 1;
        if (localRank < 0 || localRank >= Math.Max(localSize, localRank + 1)) localRank = 0;
        return new MpiEnvironment(size, rank, localRank, localSize, launcher);
    }

    private static bool TryRead(Func<string, string?> get, string sizeName, string rankName, out int size, out int rank)
    {
        size = rank = 0;
        var s = get(sizeName);
        var r = get(rankName);
        if (string.IsNullOrWhiteSpace(s) || string.IsNullOrWhiteSpace(r)) return false;
        size = Parse(sizeName, s);
        rank = Parse(rankName, r);
        return true;
    }

    private static int? ReadOptional(Func<string, string?> get, string name)
    {
        var v = get(name);
        if (string.IsNullOrWhiteSpace(v)) return null;
        // SLURM_NTASKS_PER_NODE may read "2(x3)"; the count before the parenthesis is what we need.
        var head = v.Split('(', ',')[0];
        return int.TryParse(head, out var n) ? n : null;
    }

    private static int Parse(string name, string value) =>
        int.TryParse(value.Trim(), out var n)
            ? n
            : throw new DistributedException($"environment variable {name}='{value}' is not an integer");
}

/// <summary>A distributed-layer failure; the message says which rank or which setting and how to fix it.</summary>
public sealed class DistributedException(string message, Exception? inner = null) : Exception(message, inner);
