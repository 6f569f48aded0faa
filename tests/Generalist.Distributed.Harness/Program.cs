using System.Diagnostics;
using System.Text.Json;
using Generalist.Distributed;
using Generalist.Torch;
using TorchSharp;
using Generalist.RunFormat;

// One rank of a multi-process test: `mpirun -np N dotnet Generalist.Distributed.Harness.dll MODE --key value ...`.
// Each rank writes what it saw to OUT/rank-R.json; the tests compare the files.
TorchRuntime.EnsureLoaded();
var mode = args.Length > 0 ? args[0] : "";
var options = ParseOptions(args.Skip(1).ToArray());
string Get(string key, string fallback) => options.TryGetValue(key, out var v) ? v : fallback;
torch.set_num_threads(int.Parse(Get("threads", "1")));
var output = Get("out", Path.Combine(Path.GetTempPath(), "generalist-harness"));
Directory.CreateDirectory(output);

var config = new DistributedConfig
{
    Aggregation = Get("aggregation", DistributedConfig.Mean),
    TrimFraction = double.Parse(Get("trim-fraction", "0.25")),
    ClipRadius = double.Parse(Get("clip-radius", "0")),
    ClipIterations = int.Parse(Get("clip-iterations", "3")),
    TimeoutSeconds = double.Parse(Get("timeout", "60")),
    BucketMb = double.Parse(Get("bucket-mb", "25")),
};
if (mode == "trainer") return RunTrainer();
using var context = DistributedContext.Create(config, ComputeDevice.Cpu, Get("run", output));
var comm = context.Communicator;

switch (mode)
{
    case "allreduce":
        AllReduceCheck(int.Parse(Get("n", "1000003")));
        break;
    case "train":
    {
        var workload = Workload();
        var result = DataParallelWorkload.Run(comm, GradientAggregators.FromConfig(config), workload);
        Write(new { rank = comm.Rank, world = comm.WorldSize, losses = result.Losses, parameters = result.Parameters });
        break;
    }
    case "bench":
    {
        var workload = Workload();
        var result = DataParallelWorkload.Run(comm, GradientAggregators.FromConfig(config), workload);
        Write(new
        {
            rank = comm.Rank, world = comm.WorldSize, aggregation = config.Aggregation, parameters = result.ParameterCount, buckets = result.Buckets,
            step_seconds = result.StepSeconds, sync_seconds = result.SyncSeconds, aggregation_seconds = result.AggregationSeconds,
        });
        break;
    }
    case "robust":
    {
        // One job, every rule: a clean mean run, then each rule with one rank sending a corrupted gradient.
        var clean = DataParallelWorkload.Run(comm, new MeanAggregator(), Workload() with { Attacker = -1 });
        var runs = new Dictionary<string, float[]> { ["clean"] = clean.Losses };
        var seconds = new Dictionary<string, double>();
        foreach (var rule in DistributedConfig.AggregationRules)
        {
            var ruleConfig = config with { Aggregation = rule };
            var r = DataParallelWorkload.Run(comm, GradientAggregators.FromConfig(ruleConfig), Workload());
            runs[rule] = r.Losses;
            seconds[rule] = r.SyncSeconds.Zip(r.AggregationSeconds, (a, b) => a + b).Sum() / Math.Max(1, r.SyncSeconds.Length);
        }
        Write(new { rank = comm.Rank, world = comm.WorldSize, losses = runs, sync_seconds = seconds });
        break;
    }
    case "fault":
        Fault(Get("fault", "hang"), int.Parse(Get("victim", "1")), int.Parse(Get("at-step", "3")));
        break;
    default:
        Console.Error.WriteLine($"unknown mode '{mode}': allreduce, train, bench or fault");
        return 2;
}
comm.Barrier();
return 0;

WorkloadOptions Workload() => new()
{
    Steps = int.Parse(Get("steps", "50")),
    PerRankBatch = int.Parse(Get("batch", "4")),
    SequenceLength = int.Parse(Get("seq", "8")),
    Features = int.Parse(Get("features", "16")),
    Hidden = int.Parse(Get("hidden", "32")),
    Depth = int.Parse(Get("depth", "2")),
    Optimizer = Get("optimizer", "adamw"),
    LearningRate = double.Parse(Get("lr", "0.01")),
    Seed = long.Parse(Get("seed", "1")),
    Attacker = int.Parse(Get("attacker", "-1")),
    AttackFactor = double.Parse(Get("attack-factor", "1")),
    BucketBytes = config.BucketBytes,
    WarmupSteps = int.Parse(Get("warmup", "0")),
};

void AllReduceCheck(int n)
{
    // Rank r contributes (r + 1) * (i % 97): the sum is known in closed form for every element.
    var data = new float[n];
    for (var i = 0; i < n; i++) data[i] = (comm.Rank + 1) * (i % 97);
    var scale = comm.WorldSize * (comm.WorldSize + 1) / 2f;
    var watch = Stopwatch.StartNew();
    comm.AllReduceSum(data);
    var spanSeconds = watch.Elapsed.TotalSeconds;
    var spanErrors = Enumerable.Range(0, n).Count(i => data[i] != scale * (i % 97));

    using var tensor = torch.arange(n, dtype: torch.ScalarType.Float32).remainder(97).mul(comm.Rank + 1);
    comm.AllReduceSum(tensor);
    using var expected = torch.arange(n, dtype: torch.ScalarType.Float32).remainder(97).mul(scale);
    var tensorOk = tensor.allclose(expected, rtol: 0, atol: 0);

    var gathered = comm.GatherFromRanks(comm.Rank * 10f);
    var gatherOk = gathered.Select((v, r) => v == r * 10f).All(b => b);
    var text = comm.Broadcast(comm.Rank == 0 ? "from rank 0" : null, 0);
    Write(new
    {
        rank = comm.Rank, world = comm.WorldSize, backend = comm.Backend, span_errors = spanErrors, tensor_ok = tensorOk,
        gather_ok = gatherOk, broadcast = text, seconds = spanSeconds,
    });
}

void Fault(string fault, int victim, int atStep)
{
    // Every rank all-reduces once per "step"; the victim misbehaves before step atStep's collective.
    var buffer = new float[1024];
    for (var step = 0; step < atStep + 1000; step++)
    {
        context.Watchdog!.Step = step;
        if (comm.Rank == victim && step == atStep)
        {
            Console.Error.WriteLine($"harness: rank {victim} injects '{fault}' at step {step}");
            switch (fault)
            {
                case "hang": Thread.Sleep(Timeout.Infinite); break;
                case "exit": Environment.Exit(1); break;
                case "kill": Process.Start("kill", ["-9", Environment.ProcessId.ToString()])!.WaitForExit(); Thread.Sleep(Timeout.Infinite); break;
                case "freeze": Process.Start("kill", ["-STOP", Environment.ProcessId.ToString()])!.WaitForExit(); break;
                default: throw new ArgumentException($"fault must be hang, exit, kill or freeze (got '{fault}')");
            }
        }
        comm.AllReduceSum(buffer);
        Thread.Sleep(20);
    }
}

int RunTrainer()
{
    // The real trainer: it joins the MPI job from the environment, like `generalist train` under mpirun.
    var run = new Generalist.RunFormat.RunConfig
    {
        Name = "mpi", Tasks = [new("count")], Steps = int.Parse(Get("steps", "10")), BatchSize = int.Parse(Get("batch", "4")),
        Seed = 5, Threads = 1, PeakFlops = 1e11,
        Optimizer = new Generalist.RunFormat.OptimizerConfig { LearningRate = 3e-3, WarmupSteps = 2 },
        Checkpoint = new Generalist.RunFormat.CheckpointConfig { Every = 5, KeepLast = 2 },
        HeldOut = new Generalist.RunFormat.HeldOutConfig { Every = 0 },
        Distributed = config,
    };
    var trainer = new Generalist.Training.Loop.Trainer(new Generalist.Training.Loop.TrainerOptions
    {
        Data = new Generalist.Distributed.Harness.CountingData(), Model = Generalist.Distributed.Harness.CountingData.MicroModel,
    });
    var result = trainer.RunAsync(run, Get("run", output), bool.Parse(Get("resume", "false")), null, CancellationToken.None).GetAwaiter().GetResult();
    var rank = MpiEnvironment.FromEnvironment().Rank;
    File.WriteAllText(Path.Combine(output, $"rank-{rank}.json"),
        JsonSerializer.Serialize(new { rank, outcome = result.Outcome.ToString(), final_step = result.FinalStep }, JsonOptions));
    return result.Outcome == Generalist.Training.TrainingOutcome.Completed ? 0 : 1;
}

void Write(object value) =>
    File.WriteAllText(Path.Combine(output, $"rank-{comm.Rank}.json"), JsonSerializer.Serialize(value, JsonOptions));

static Dictionary<string, string> ParseOptions(string[] a)
{
    var d = new Dictionary<string, string>();
    for (var i = 0; i + 1 < a.Length; i += 2)
    {
        if (!a[i].StartsWith("--", StringComparison.Ordinal)) throw new ArgumentException($"expected --key value, got '{a[i]}'");
        d[a[i][2..]] = a[i + 1];
    }
    return d;
}

partial class Program
{
    // A diverged run's loss is Infinity or NaN, which plain JSON cannot hold.
    private static readonly JsonSerializerOptions JsonOptions = new() { NumberHandling = System.Text.Json.Serialization.JsonNumberHandling.AllowNamedFloatingPointLiterals };
}
