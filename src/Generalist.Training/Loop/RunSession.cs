using Generalist.Distributed;
using Generalist.Model;
using Generalist.Training.Data;
using Generalist.Training.Distributed;
using Generalist.Training.Optim;
using Generalist.Training.Ownership;
using TorchSharp;
using static TorchSharp.torch;
using Generalist.RunFormat;
using Generalist.RunFormat.Checkpointing;
using Generalist.Torch;

namespace Generalist.Training.Loop;

/// <summary>
/// One run's components wired together (model, optimizer, data, checkpoints, metrics, held-out
/// evaluation, fault handling) and the step loop over them. Each component is its own class with
/// its own options; this class only sequences them.
/// </summary>
internal sealed partial class RunSession : IDisposable
{
    private readonly RunConfig _config;
    private readonly TrainerOptions _options;
    private readonly IProgress<TrainingEvent>? _progress;
    private readonly GeneralistModel _model;
    private readonly AdamW _optimizer;
    private readonly TrainingData _data;
    private readonly CheckpointStore _store;
    private readonly MetricsLog? _metrics;        // rank 0 only
    private readonly DistributedContext _distributed;
    private readonly bool _ownsDistributed;
    private readonly DataParallelStep? _parallel;   // null on a world of one
    private readonly StepExecutor _executor;
    private readonly HeldOutEvaluator? _heldOut;
    private readonly LearningRateSchedule _schedule;
    private readonly SpikeDetector _spikes;
    private readonly Device _device;
    private readonly string _runDirectory;
    private readonly HashSet<long> _faultsFired = [];
    private double _peakFlops;
    private DirectoryLock? _ownership;             // rank 0: held until the session ends

    private long _step, _optimizerSteps, _tokensSeen, _nonFiniteSteps, _consecutiveNonFinite, _lastCheckpointStep = -1;
    private int _rollbacks;

    private RunSession(RunConfig config, string runDirectory, TrainerOptions options, IProgress<TrainingEvent>? progress,
        GeneralistModel model, TrainingData data, Device device, DistributedContext distributed, bool ownsDistributed)
    {
        _distributed = distributed;
        _ownsDistributed = ownsDistributed;
        _config = config;
        _options = options;
        _progress = progress;
        _model = model;
        _data = data;
        _device = device;
        _runDirectory = runDirectory;
        _optimizer = new AdamW(model.named_parameters().Select(p => (p.name, p.parameter)), AdamWOptions.From(config.Optimizer));
        if (_optimizer.FusedFailure is { } why) Log($"fused AdamW unavailable, using the per-parameter update: {why}");
        _store = new CheckpointStore(new CheckpointOptions(Path.Combine(runDirectory, "checkpoints"), config.Checkpoint.KeepLast), Log)
        {
            PhaseHook = options.Faults.CheckpointPhase is { } hook ? phase => hook(_step, phase) : null,
        };
        // Rank 0 alone writes metrics.jsonl and checkpoints; every rank computes the same numbers.
        _metrics = distributed.IsRoot ? new MetricsLog(Path.Combine(runDirectory, "metrics.jsonl"), keepThroughStep: long.MaxValue) : null;
        _parallel = distributed.WorldSize > 1 ? new DataParallelStep(distributed, model.parameters(), config.Distributed) : null;
        _executor = new StepExecutor(model, _optimizer, new StepOptions(config.GradAccum, config.Optimizer.GradClip, config.PrecisionMode, device, config.Model.ContinuousLabelSigma), _parallel);
        _heldOut = data.HeldOut is { } h && config.HeldOut.Every > 0
            ? new HeldOutEvaluator(model, h, config.HeldOut.Batches, config.PrecisionMode, device) : null;
        _schedule = LearningRateSchedule.From(config);
        _spikes = new SpikeDetector(config.Spike);
    }

    public static RunSession Create(RunConfig config, string runDirectory, TrainerOptions options, IProgress<TrainingEvent>? progress)
    {
        // Ownership first, before a byte is written: a second trainer into this directory (or one
        // inside it) is refused here. Rank 0 alone holds the lock; the other ranks only check nesting.
        var isRoot = options.Distributed?.IsRoot ?? MpiEnvironment.FromEnvironment().Rank == 0;
        RunDirectoryLock.RefuseNested(runDirectory);
        var ownership = isRoot ? RunDirectoryLock.Acquire(runDirectory) : null;
        if (ownership?.Warning is { } weak) options.Log?.Invoke(weak);
        try
        {
            Directory.CreateDirectory(runDirectory);
            if (config.Threads > 0) set_num_threads(config.Threads);
            var ownsDistributed = options.Distributed is null;
            DistributedContext distributed;
            try
            {
                distributed = options.Distributed ?? DistributedContext.Create(config.Distributed, config.DeviceKind, runDirectory);
            }
            catch (DistributedException e)
            {
                throw new ConfigException("distributed", $"distributed: {e.Message}");
            }
            try
            {
                var session = Create(config, runDirectory, options, progress, distributed, ownsDistributed);
                session._ownership = ownership;
                return session;
            }
            catch
            {
                if (ownsDistributed) distributed.Dispose();
                throw;
            }
        }
        catch
        {
            ownership?.Dispose();
            throw;
        }
    }

    private static RunSession Create(RunConfig config, string runDirectory, TrainerOptions options, IProgress<TrainingEvent>? progress,
        DistributedContext distributed, bool ownsDistributed)
    {
        if (distributed.WorldSize > 1 && config.BatchSize % distributed.WorldSize != 0)
            throw new ConfigException("batch_size",
                $"batch_size: with {distributed.WorldSize} ranks batch_size is the global micro-batch and must be a multiple of {distributed.WorldSize} (got {config.BatchSize})");
        var device = ResolveDevice(config.Device, distributed.Environment.LocalRank);
        var modelConfig = ResolveModel(config, options);
        manual_seed(config.Seed);
        var model = new GeneralistModel(modelConfig, config.Seed);
        model.to(device);
        model.train();
        try
        {
            var factory = options.Data ?? DefaultData.Factory();
            var data = factory.Create(config, modelConfig, options.Log);
            if (distributed.WorldSize > 1) data = data with { Train = new ShardedBatchSource(data.Train, distributed.Shard, config.BatchSize) };
            return new RunSession(config, runDirectory, options, progress, model, data, device, distributed, ownsDistributed);
        }
        catch
        {
            model.Dispose();
            throw;
        }
    }

    /// <summary>On CUDA each rank of a machine takes its own GPU: local rank modulo the device count.</summary>
    private static Device ResolveDevice(string device, int localRank)
    {
        if (ComputeSettings.ParseDevice(device) == ComputeDevice.Cuda && !cuda.is_available())
            throw new ConfigException("device", "device: \"cuda\" was asked for but no CUDA device is available (use \"cpu\")");
        return ComputeSettings.ParseDevice(device) == ComputeDevice.Cuda ? new Device(DeviceType.CUDA, localRank % Math.Max(1, cuda.device_count())) : CPU;
    }

    private static ModelConfig ResolveModel(RunConfig config, TrainerOptions options) => config.ResolveModel(options.Model);

    /// <summary>
    /// Runs the loop; under a launcher every rank also records how it is doing and how it ended in
    /// its heartbeat file (&lt;run&gt;/distributed/heartbeat/rank-N.json), which the service shows per rank.
    /// </summary>
    public TrainingResult Run(bool resume, CancellationToken ct)
    {
        var watchdog = _distributed.Watchdog;
        watchdog?.SetState(Heartbeat.Training);
        try
        {
            var result = RunLoop(resume, ct);
            watchdog?.SetState(result.Outcome switch
            {
                TrainingOutcome.Completed => Heartbeat.Completed,
                TrainingOutcome.Cancelled => Heartbeat.Cancelled,
                _ => Heartbeat.Failed,
            }, result.FailureReason ?? "");
            return result;
        }
        catch (Exception e)
        {
            watchdog?.SetState(Heartbeat.Failed, e.Message);
            throw;
        }
    }

    private TrainingResult RunLoop(bool resume, CancellationToken ct)
    {
        if (_distributed.IsRoot) _store.CleanTemporaries();
        Start(resume);
        if (_distributed.Watchdog is { } startWatchdog) startWatchdog.Step = _step; // a resumed rank shows its step at once
        // Every rank starts from rank 0's weights (they are equal by seed or checkpoint already;
        // this makes it so whatever the platform's kernels did).
        _parallel?.BroadcastParameters(_model.parameters());
        var flopsPerToken = _model.EstimateFlopsPerToken();
        _peakFlops = PeakFlops.Resolve(_config.PeakFlops, _config.PrecisionMode.ScalarType(), _device);
        // The untrained model's held-out loss: the baseline every later evaluation is compared with.
        if (_step == 0 && _heldOut is not null) _progress?.Report(new HeldOutEvaluated(0, _heldOut.Evaluate()));

        while (_step < _config.Steps)
        {
            // A stop asked of any rank (a signal, or the launching service's stop file) stops
            // every rank at the same step (one tiny all-reduce).
            var stop = ct.IsCancellationRequested || StopFileSeen() || LeaseLapsed();
            if (_parallel?.AnyRank(stop) ?? stop)
            {
                var path = SaveCheckpoint();
                return new TrainingResult(TrainingOutcome.Cancelled, _step, path, null);
            }
            _step++;
            if (_distributed.Watchdog is { } watchdog) watchdog.Step = _step;
            var lr = _schedule.At(_step);
            var result = _executor.Run(_data.Train, lr, InjectedMultiplier(_step));
            // Tokens of the whole job (every rank trains on as many): the same count whatever the
            // world size, so a resume with other ranks continues the same tokens_seen.
            var jobTokens = result.Tokens * _distributed.WorldSize;
            _tokensSeen += jobTokens;

            if (result.Skipped)
            {
                _nonFiniteSteps++;
                _consecutiveNonFinite++;
                Log($"step {_step}: non-finite loss ({result.Loss}) or gradient norm ({result.GradNorm}); update skipped ({_consecutiveNonFinite} in a row)");
                if (_config.NonFinite.Policy == "halt")
                    return Fail($"non-finite loss or gradient norm at step {_step} (non_finite.policy is \"halt\")");
                if (_consecutiveNonFinite >= _config.NonFinite.MaxConsecutive)
                    return Fail($"{_consecutiveNonFinite} non-finite steps in a row at step {_step} (non_finite.max_consecutive is {_config.NonFinite.MaxConsecutive})");
            }
            else
            {
                _consecutiveNonFinite = 0;
                _optimizerSteps++;
                if (_spikes.Observe(_step, result.Loss))
                {
                    if (_rollbacks >= _config.Spike.MaxRollbacks)
                        return Fail($"loss spike at step {_step} ({result.Loss:G4} > {_config.Spike.Factor} x recent mean {_spikes.RecentMean:G4}) after {_rollbacks} rollbacks (spike.max_rollbacks)");
                    if (RollBack(result.Loss)) continue;
                }
            }

            var heldOut = ShouldEvaluate() ? _heldOut!.Evaluate() : null;
            var tokensPerSecond = jobTokens / Math.Max(result.TotalSeconds, 1e-9);
            // MFU per rank: this rank's tokens over the peak this rank measured with its own threads.
            var mfu = result.Tokens / Math.Max(result.TotalSeconds, 1e-9) * flopsPerToken / _peakFlops;
            _metrics?.Append(new MetricsLine(_step, result.Loss, result.TaskLoss, lr, result.GradNorm, jobTokens, _tokensSeen,
                tokensPerSecond, mfu, result.DataSeconds, result.ForwardSeconds, result.BackwardSeconds, result.OptimizerSeconds,
                result.Skipped, heldOut, result.SyncSeconds, _distributed.WorldSize, _distributed.Rank));
            // The service turns these events into its metrics (src/Generalist.Service/README.md, "Telemetry").
            if (_distributed.IsRoot) _progress?.Report(new StepCompleted(_step, _config.Steps, result.Loss, result.TaskLoss, lr, result.GradNorm, _tokensSeen,
                tokensPerSecond, mfu, result.DataSeconds, result.ForwardSeconds, result.BackwardSeconds, result.OptimizerSeconds, result.Skipped, result.SyncSeconds));
            if (heldOut is not null && _distributed.IsRoot) _progress?.Report(new HeldOutEvaluated(_step, heldOut));

            if ((_config.Checkpoint.Every > 0 && _step % _config.Checkpoint.Every == 0) || _step == _config.Steps)
                SaveCheckpoint();
        }
        return new TrainingResult(TrainingOutcome.Completed, _step, LastCheckpointPath(), null);
    }

    // When this process started: a stop file older than that belongs to an earlier job.
    private static readonly DateTime ProcessStartUtc = System.Diagnostics.Process.GetCurrentProcess().StartTime.ToUniversalTime();

    /// <summary>Each rank of a job of several looks for the stop file once per step: one stat, nothing next to a step.</summary>
    private bool StopFileSeen() => _distributed.WorldSize > 1 && StopRequest.IsRequested(_runDirectory, ProcessStartUtc);

    private bool _leaseLapsed;

    /// <summary>The service that launched this job stopped renewing its lease: it is gone, so stop (once, with a checkpoint) rather than train on as an orphan.</summary>
    private bool LeaseLapsed()
    {
        if (_leaseLapsed) return true;
        if (_options.Lease is not { } lease || !lease.Lapsed()) return false;
        _leaseLapsed = true;
        Log($"the launching service's lease {lease.Path} has not been renewed for {lease.Length.TotalSeconds:F0} s (the service is gone): stopping at step {_step} with a checkpoint");
        return true;
    }

    private bool ShouldEvaluate() =>
        _heldOut is not null && (_step % _config.HeldOut.Every == 0 || _step == _config.Steps);

    private double InjectedMultiplier(long step)
    {
        var m = _options.Faults.LossMultiplier(step);
        // Each injected fault fires once per step number: after a rollback replays that step, the
        // new data does not carry the fault (a spike is a property of its batch).
        if (m == 1.0 || !_faultsFired.Add(step)) return 1.0;
        return m;
    }

    private TrainingResult Fail(string reason)
    {
        Log(reason);
        return new TrainingResult(TrainingOutcome.Failed, _step, LastCheckpointPath(), reason);
    }

    private string? LastCheckpointPath() => _store.List().LastOrDefault()?.Path;

    private void Log(string message) => _options.Log?.Invoke(message);

    public void Dispose()
    {
        _metrics?.Dispose();
        _parallel?.Dispose();
        _optimizer.Dispose();
        _model.Dispose();
        if (_ownsDistributed) _distributed.Dispose();
        _ownership?.Dispose(); // last: nothing of this run is written after the lock is given up
    }
}
