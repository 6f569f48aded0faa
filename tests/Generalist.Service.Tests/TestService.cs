using Generalist.Evaluation;
using Generalist.Service.Api.V1;
using Generalist.Service.Hosting;
using Generalist.Studies;
using Generalist.Training;
using Google.Protobuf;
using Grpc.Core;
using Grpc.Core.Interceptors;
using Grpc.Net.Client;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.TestHost;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Logging;
using Generalist.RunFormat;

namespace Generalist.Service.Tests;

/// <summary>The real service on an in-memory test server, with test doubles for the workers.</summary>
public sealed class TestService : IAsyncDisposable
{
    private readonly List<GrpcChannel> _channels = [];

    private TestService(WebApplication app, string dataRoot, FakeTrainer trainer, FakeEvaluator evaluator, bool ownsRoot)
    {
        App = app;
        DataRoot = dataRoot;
        Trainer = trainer;
        Evaluator = evaluator;
        OwnsRoot = ownsRoot;
        Server = app.GetTestServer();
    }

    public WebApplication App { get; }
    public TestServer Server { get; }
    public string DataRoot { get; }
    public FakeTrainer Trainer { get; }
    public FakeEvaluator Evaluator { get; }
    private bool OwnsRoot { get; set; }

    public static async Task<TestService> StartAsync(Dictionary<string, string?>? settings = null, string? dataRoot = null, FakeTrainer? trainer = null,
        Action<IServiceCollection>? configure = null)
    {
        var ownsRoot = dataRoot is null;
        dataRoot ??= Directory.CreateTempSubdirectory("generalist-service-").FullName;
        trainer ??= new FakeTrainer();
        var evaluator = new FakeEvaluator();
        var config = new Dictionary<string, string?>
        {
            ["Service:DataRoot"] = dataRoot,
            ["Service:ShutdownGraceSeconds"] = "10",
            ["Logging:LogLevel:Default"] = "Warning",
        };
        foreach (var (k, v) in settings ?? []) config[k] = v;
        var app = GeneralistServiceHost.Build(new ServiceHostSettings
        {
            Configuration = config,
            ConfigureWebHost = web => web.UseTestServer(),
            ConfigureServices = services =>
            {
                services.AddSingleton<ITrainer>(trainer);
                services.AddSingleton<IEvaluator>(evaluator);
                services.AddSingleton<IStudyRunner>(new FakeStudyRunner());
                configure?.Invoke(services);
            },
        });
        await app.StartAsync();
        return new TestService(app, dataRoot, trainer, evaluator, ownsRoot);
    }

    /// <summary>Stops this instance but keeps the data root, and starts a new service on it.</summary>
    public async Task<TestService> RestartAsync(Dictionary<string, string?>? settings = null, FakeTrainer? trainer = null)
    {
        OwnsRoot = false;
        await DisposeAsync();
        var next = await StartAsync(settings, DataRoot, trainer ?? new FakeTrainer());
        next.OwnsRoot = true;
        return next;
    }

    public CallInvoker Invoker(string? apiKey = null, int? maxSendBytes = null)
    {
        var channel = GrpcChannel.ForAddress(Server.BaseAddress, new GrpcChannelOptions
        {
            HttpHandler = Server.CreateHandler(),
            MaxSendMessageSize = maxSendBytes,
            MaxReceiveMessageSize = 64 * 1024 * 1024,
        });
        _channels.Add(channel);
        CallInvoker invoker = channel.CreateCallInvoker();
        if (apiKey is not null) invoker = invoker.Intercept(m =>
        {
            m.Add("authorization", apiKey);
            return m;
        });
        return invoker;
    }

    public Runs.RunsClient Runs(string? apiKey = null) => new(Invoker(apiKey));
    public Api.V1.Evaluations.EvaluationsClient Evaluations() => new(Invoker());
    public Api.V1.Studies.StudiesClient Studies() => new(Invoker());
    public Checkpoints.CheckpointsClient Checkpoints() => new(Invoker());

    public T Service<T>() where T : notnull => App.Services.GetRequiredService<T>();

    /// <summary>Polls until the run reaches a state (bounded: 20 s).</summary>
    public async Task<Run> WaitForAsync(string run, Func<Run, bool> done)
    {
        var client = Runs();
        var deadline = DateTime.UtcNow + TimeSpan.FromSeconds(20);
        while (true)
        {
            var r = await client.GetRunAsync(new GetRunRequest { Name = run });
            if (done(r)) return r;
            if (DateTime.UtcNow > deadline) throw new TimeoutException($"run {run} stayed {r.State} at step {r.Step}");
            await Task.Delay(10);
        }
    }

    public Task<Run> WaitForStateAsync(string run, JobState state) => WaitForAsync(run, r => r.State == state);

    public async ValueTask DisposeAsync()
    {
        foreach (var c in _channels) c.Dispose();
        await App.StopAsync();
        await App.DisposeAsync();
        if (OwnsRoot) TryDelete(DataRoot);
    }

    public static void TryDelete(string dir)
    {
        try
        {
            if (Directory.Exists(dir)) Directory.Delete(dir, true);
        }
        catch (IOException)
        {
            // a temp directory left behind is harmless
        }
    }
}

public static class Rpc
{
    /// <summary>Asserts the call fails with this code and returns the google.rpc.Status details.</summary>
    public static async Task<Google.Rpc.Status> FailsWith(StatusCode code, Func<Task> call)
    {
        var e = await Assert.ThrowsAsync<RpcException>(call);
        Assert.True(code == e.StatusCode, $"expected {code}, got {e.StatusCode}: {e.Status.Detail}");
        return e.GetRpcStatus() ?? new Google.Rpc.Status { Code = (int)e.StatusCode, Message = e.Status.Detail };
    }

    public static T? Detail<T>(this Google.Rpc.Status status) where T : class, IMessage<T>, new() => status.GetDetail<T>();

    public static CreateRunRequest Quick(string name, int steps = 5, int every = 2) => new()
    {
        ConfigJson = new RunConfig { Name = name, Steps = steps, Checkpoint = new CheckpointConfig { Every = every } }.ToJson(),
    };
}
