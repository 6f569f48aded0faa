using System.CommandLine;
using Generalist.Service.Hosting;
using Generalist.Torch;
using Microsoft.AspNetCore.Builder;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Options;

namespace Generalist.Cli.Commands;

/// <summary>`generalist serve`: the headless service (gRPC + /metrics + /healthz) until Ctrl+C or SIGTERM.</summary>
public static class ServeCommand
{
    public static Command Create()
    {
        var dataRoot = new Option<string>("--data-root") { Description = "Directory for the registry, runs, evaluations and studies (default: GENERALIST_DATA_ROOT or ./checkpoints).", };
        var port = new Option<int>("--port") { Description = "gRPC port (HTTP/2, h2c); 0 = any free port.", DefaultValueFactory = _ => ServiceClient.DefaultPort };
        var metricsPort = new Option<int>("--metrics-port") { Description = "Port of /metrics and /healthz (HTTP/1.1); 0 = any free port.", DefaultValueFactory = _ => 9464 };
        var bind = new Option<string>("--bind") { Description = "Address to listen on.", DefaultValueFactory = _ => "127.0.0.1" };
        var apiKey = new Option<string?>("--api-key") { Description = "Require `authorization: Bearer KEY` on every RPC (default: GENERALIST_API_KEY; none = open)." };
        var concurrent = new Option<int>("--max-concurrent-runs") { Description = "Jobs executing at once.", DefaultValueFactory = _ => 1 };
        var queue = new Option<int>("--queue-capacity") { Description = "Jobs waiting at most; more get RESOURCE_EXHAUSTED.", DefaultValueFactory = _ => 64 };
        var maxMessage = new Option<int>("--max-message-bytes") { Description = "Largest gRPC message.", DefaultValueFactory = _ => 4 * 1024 * 1024 };
        var launcher = new Option<string?>("--launcher")
        {
            Description = "How runs with distributed.ranks > 1 start: a template with {ranks} and {command}, e.g. \"srun --ntasks={ranks} --mpi=pmix {command}\" (default: mpirun -np {ranks} -x TERM=dumb {command}).",
        };
        var trainProgram = new Option<string?>("--train-program") { Description = "The generalist program each rank runs (default: this one)." };
        var allowRunLauncher = new Option<bool>("--allow-run-launcher") { Description = "Accept a run config's own distributed.launcher (it runs a program of the client's choice)." };
        var logLevel = new Option<string>("--log-level")
        {
            Description = "Least severe log level written (to stderr); below information adds ASP.NET Core's per-request lines.",
            DefaultValueFactory = _ => "information",
        };
        logLevel.AcceptOnlyFromAmong(ServiceLogging.Levels);
        var logFormat = new Option<string>("--log-format") { Description = "Log lines as text or as one JSON object each.", DefaultValueFactory = _ => ServiceLogging.Text };
        logFormat.AcceptOnlyFromAmong(ServiceLogging.Formats);
        var verbose = new Option<bool>("--verbose") { Description = "Log the host's own start-up failures in full (stack traces); without it a failed start is one line." };
        var command = new Command("serve", "Run the Generalist service: gRPC API, run registry, scheduler and telemetry.")
            { dataRoot, port, metricsPort, bind, apiKey, concurrent, queue, maxMessage, launcher, trainProgram, allowRunLauncher, logLevel, logFormat, verbose };
        command.SetAction(async (parse, ct) =>
        {
            var root = parse.GetValue(dataRoot) ?? Environment.GetEnvironmentVariable("GENERALIST_DATA_ROOT") ?? "checkpoints";
            var settings = new Dictionary<string, string?>
            {
                ["Service:DataRoot"] = Path.GetFullPath(root),
                ["Service:Port"] = parse.GetValue(port).ToString(),
                ["Service:MetricsPort"] = parse.GetValue(metricsPort).ToString(),
                ["Service:BindAddress"] = parse.GetValue(bind),
                ["Service:ApiKey"] = parse.GetValue(apiKey) ?? Environment.GetEnvironmentVariable("GENERALIST_API_KEY"),
                ["Service:MaxConcurrentRuns"] = parse.GetValue(concurrent).ToString(),
                ["Service:QueueCapacity"] = parse.GetValue(queue).ToString(),
                ["Service:MaxMessageBytes"] = parse.GetValue(maxMessage).ToString(),
                ["Service:AllowRunLauncher"] = parse.GetValue(allowRunLauncher).ToString(),
            };
            if (parse.GetValue(launcher) is { } template) settings["Service:Launcher"] = template;
            if (parse.GetValue(trainProgram) is { } program) settings["Service:TrainProgram"] = program;
            foreach (var (key, value) in ServiceLogging.Settings(ServiceLogging.ParseLevel(parse.GetValue(logLevel)!)!.Value, parse.GetValue(logFormat)!))
                settings[key] = value;
            return await RunAsync(settings, parse.GetValue(verbose), ct);
        });
        return command;
    }

    private static async Task<int> RunAsync(Dictionary<string, string?> settings, bool verbose, CancellationToken ct)
    {
        WebApplication app;
        try
        {
            // The trainer and evaluator need libtorch; a machine without it should hear so now.
            TorchRuntime.EnsureLoaded();
            app = GeneralistServiceHost.Build(new ServiceHostSettings
            {
                Configuration = settings,
                // The host logs a failed start with its stack trace before throwing; the catch
                // blocks below say it in one line instead (Critical still gets through).
                ConfigureLogging = verbose ? null : logging => logging.AddFilter("Microsoft.Extensions.Hosting.Internal.Host", LogLevel.Critical),
            });
            await app.StartAsync(ct);
        }
        catch (OptionsValidationException e)
        {
            Console.Error.WriteLine($"error: {string.Join("; ", e.Failures)}");
            return ExitCodes.InvalidInput;
        }
        catch (Generalist.Training.Ownership.DirectoryInUseException e)
        {
            // Another service owns this data root: nothing here was touched.
            Console.Error.WriteLine($"error: {e.Message}");
            return ExitCodes.InvalidInput;
        }
        catch (TorchLoadException e)
        {
            Console.Error.WriteLine($"error: {e.Message}");
            return ExitCodes.InvalidInput;
        }
        catch (IOException e) when (e.InnerException is System.Net.Sockets.SocketException || e.Message.Contains("address already in use", StringComparison.OrdinalIgnoreCase))
        {
            Console.Error.WriteLine($"error: --port/--metrics-port: cannot listen: {e.Message} (choose another port, or 0 for any free one)");
            return ExitCodes.InvalidInput;
        }
        var endpoints = app.Services.GetRequiredService<ServiceEndpoints>();
        // One machine-readable line first: scripts and tests read the real ports from it.
        Console.Out.WriteLine($"generalist service listening: grpc={endpoints.GrpcAddress} metrics={endpoints.MetricsAddress}metrics data_root={settings["Service:DataRoot"]}");
        Console.Out.Flush();
        await app.WaitForShutdownAsync(ct);
        await app.DisposeAsync();
        return ExitCodes.Ok;
    }
}
