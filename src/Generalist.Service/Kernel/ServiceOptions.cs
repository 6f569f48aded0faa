using System.Runtime.InteropServices;
using System.Net;
using Generalist.Distributed;
using Microsoft.Extensions.Options;

namespace Generalist.Service.Kernel;

/// <summary>
/// Settings of `generalist serve` (configuration section "Service"). Bound once and validated at
/// start (ValidateOnStart), so a bad value stops the service before it listens.
/// </summary>
public sealed class ServiceOptions
{
    public const string Section = "Service";

    /// <summary>Everything the service writes lives under this directory: registry.db, runs/, evaluations/, studies/.</summary>
    public string DataRoot { get; set; } = "";

    /// <summary>gRPC (HTTP/2 without TLS, "h2c"). 0 = any free port (printed at start).</summary>
    public int Port { get; set; } = 50051;

    /// <summary>HTTP/1.1 for /metrics (Prometheus) and /healthz. 0 = any free port.</summary>
    public int MetricsPort { get; set; } = 9464;

    /// <summary>Loopback by default: the API has no TLS, so exposing it is an explicit choice.</summary>
    public string BindAddress { get; set; } = "127.0.0.1";

    /// <summary>Runs, evaluations and studies executing at once (one per device by default).</summary>
    public int MaxConcurrentRuns { get; set; } = 1;

    /// <summary>Jobs waiting beyond the running ones; a create call beyond it gets RESOURCE_EXHAUSTED.</summary>
    public int QueueCapacity { get; set; } = 64;

    /// <summary>When set, every RPC needs `authorization: Bearer KEY`.</summary>
    public string? ApiKey { get; set; }

    /// <summary>Largest gRPC message accepted or sent (bytes); larger ones get RESOURCE_EXHAUSTED.</summary>
    public int MaxMessageBytes { get; set; } = 4 * 1024 * 1024;

    /// <summary>How long a stop waits for running jobs to reach a step boundary and checkpoint.</summary>
    public int ShutdownGraceSeconds { get; set; } = 60;

    /// <summary>
    /// How a run with distributed.ranks &gt; 1 is started: a template with {ranks} and {command} (the
    /// `generalist train` command line), e.g. "mpirun -np {ranks} --hostfile /etc/hosts.mpi {command}"
    /// or "srun --ntasks={ranks} --mpi=pmix {command}".
    /// </summary>
    public string Launcher { get; set; } = MpiLauncher.DefaultTemplate;

    /// <summary>
    /// The `generalist` program every rank runs (words, quoted like the launcher), e.g.
    /// "/opt/generalist/generalist" or "dotnet /opt/generalist/generalist.dll". Empty = this program.
    /// </summary>
    public string TrainProgram { get; set; } = "";

    /// <summary>
    /// Accept a run config's own distributed.launcher. Off by default: the launcher is a program the
    /// client chooses, run on this machine with the service's rights.
    /// </summary>
    public bool AllowRunLauncher { get; set; }

    /// <summary>
    /// Seconds a launched job's ranks keep training without this service renewing their lease
    /// (renewed every second): after that they stop with a checkpoint, so none outlives the service.
    /// </summary>
    public double LeaseSeconds { get; set; } = 30;
}

/// <summary>Names each bad field with its allowed range (one message per field).</summary>
public sealed partial class ServiceOptionsValidator : IValidateOptions<ServiceOptions>
{
    public const int MinApiKeyLength = 16;

    public ValidateOptionsResult Validate(string? name, ServiceOptions o)
    {
        var errors = new List<string>();
        if (string.IsNullOrWhiteSpace(o.DataRoot)) errors.Add("Service:DataRoot (--data-root): must name a directory");
        else if (o.DataRoot.Contains('\0')) errors.Add("Service:DataRoot (--data-root): must not contain NUL");
        else if (DataRootProblem(o.DataRoot) is { } problem) errors.Add($"Service:DataRoot (--data-root): {problem}");
        if (o.Port is < 0 or > 65535) errors.Add($"Service:Port (--port): must be in [0, 65535] (got {o.Port})");
        if (o.MetricsPort is < 0 or > 65535) errors.Add($"Service:MetricsPort (--metrics-port): must be in [0, 65535] (got {o.MetricsPort})");
        if (o.Port != 0 && o.Port == o.MetricsPort) errors.Add($"Service:MetricsPort (--metrics-port): must differ from the gRPC port {o.Port} (gRPC needs its own HTTP/2 endpoint)");
        if (!IPAddress.TryParse(o.BindAddress, out _)) errors.Add($"Service:BindAddress (--bind): must be an IP address such as 127.0.0.1 (got '{o.BindAddress}')");
        if (o.MaxConcurrentRuns is < 1 or > 64) errors.Add($"Service:MaxConcurrentRuns (--max-concurrent-runs): must be in [1, 64] (got {o.MaxConcurrentRuns})");
        if (o.QueueCapacity is < 0 or > 100_000) errors.Add($"Service:QueueCapacity (--queue-capacity): must be in [0, 100000] (got {o.QueueCapacity})");
        if (o.ApiKey is { Length: > 0 } key && (key.Length < MinApiKeyLength || key.Any(c => c <= ' ' || c > '~')))
            errors.Add($"Service:ApiKey (--api-key): must be at least {MinApiKeyLength} printable ASCII characters without spaces");
        if (o.MaxMessageBytes is < 1024 or > 64 * 1024 * 1024) errors.Add($"Service:MaxMessageBytes (--max-message-bytes): must be in [1024, 67108864] (got {o.MaxMessageBytes})");
        if (o.LeaseSeconds is < 2 or > 3600 || double.IsNaN(o.LeaseSeconds)) errors.Add($"Service:LeaseSeconds: must be in [2, 3600] (got {o.LeaseSeconds})");
        if (o.ShutdownGraceSeconds is < 1 or > 3600) errors.Add($"Service:ShutdownGraceSeconds: must be in [1, 3600] (got {o.ShutdownGraceSeconds})");
        foreach (var problem in MpiLauncher.Problems(o.Launcher)) errors.Add($"Service:Launcher (--launcher): {problem}");
        try
        {
            MpiLauncher.Split(o.TrainProgram ?? "");
        }
        catch (DistributedException e)
        {
            errors.Add($"Service:TrainProgram (--train-program): {e.Message.Replace("distributed.launcher", "the program", StringComparison.Ordinal)}");
        }
        return errors.Count == 0 ? ValidateOptionsResult.Success : ValidateOptionsResult.Fail(errors);
    }

    /// <summary>What makes the data root unusable before anything is written there: a file in its place, or no write access.</summary>
    private static string? DataRootProblem(string dataRoot)
    {
        var full = Path.GetFullPath(dataRoot);
        if (File.Exists(full)) return $"{full} is a file; the data root must be a directory (it holds registry.db, runs/, evaluations/, studies/)";
        // The nearest directory that exists is where the service will create (or write) things.
        var existing = full;
        while (!Directory.Exists(existing) && Path.GetDirectoryName(existing) is { } parent) existing = parent;
        if (File.Exists(existing)) return $"{existing} is a file, so {full} cannot be created";
        if (OperatingSystem.IsLinux() && Access(existing, WriteAndSearch) != 0)
            return $"{existing} is not writable ({Marshal.GetPInvokeErrorMessage(Marshal.GetLastPInvokeError())}); the service writes its registry and runs there: choose a writable directory";
        return null;
    }

    private const int WriteAndSearch = 2 | 1; // W_OK | X_OK

    [LibraryImport("libc", EntryPoint = "access", SetLastError = true, StringMarshalling = StringMarshalling.Utf8)]
    private static partial int Access(string path, int mode);
}
