using System.Text;
using System.Text.Json;
using System.Text.Json.Serialization;
using Generalist.Training;
using Generalist.Training.Loop;
using Generalist.RunFormat.Checkpointing;

namespace Generalist.Service.Jobs;

/// <summary>
/// Follows a run that trains in other processes (a launched distributed job) through the files its
/// rank 0 writes: new complete lines of metrics.jsonl become StepCompleted (and HeldOutEvaluated)
/// events, new checkpoints/step-N directories CheckpointWritten events, so Watch streams, metrics
/// and the registry see the same events as for a run in the service's process. Polled; not thread-safe.
/// A line is read only once it ends with a newline (rank 0 flushes whole lines). After a loss-spike
/// rollback the trainer rewrites the file; replayed steps are then reported once they pass the
/// newest step already reported.
/// </summary>
public sealed class RunFollower
{
    private static readonly JsonSerializerOptions LineOptions = new() { NumberHandling = JsonNumberHandling.AllowNamedFloatingPointLiterals };

    private readonly string _metricsPath;
    private readonly CheckpointStore _checkpoints;
    private readonly long _totalSteps;
    private readonly IProgress<TrainingEvent> _progress;
    private readonly HashSet<long> _knownCheckpoints;
    private long _offset;

    /// <param name="afterStep">Steps up to this one were reported before (a resumed run's checkpoint step).</param>
    public RunFollower(string runDirectory, long totalSteps, IProgress<TrainingEvent> progress, long afterStep)
    {
        _metricsPath = Path.Combine(runDirectory, "metrics.jsonl");
        _checkpoints = new CheckpointStore(new CheckpointOptions(Path.Combine(runDirectory, "checkpoints"), int.MaxValue));
        _totalSteps = totalSteps;
        _progress = progress;
        LastStep = afterStep;
        // Checkpoints already there belong to earlier attempts and are in the registry.
        _knownCheckpoints = _checkpoints.List().Select(c => c.Step).ToHashSet();
    }

    /// <summary>The newest step reported.</summary>
    public long LastStep { get; private set; }

    /// <summary>Reports everything new since the last poll.</summary>
    public void Poll()
    {
        ReadNewLines();
        foreach (var checkpoint in _checkpoints.List())
            if (_knownCheckpoints.Add(checkpoint.Step)) _progress.Report(new CheckpointWritten(checkpoint.Step, checkpoint.Path));
    }

    private void ReadNewLines()
    {
        if (!File.Exists(_metricsPath)) return;
        byte[] bytes;
        using (var stream = new FileStream(_metricsPath, FileMode.Open, FileAccess.Read, FileShare.ReadWrite | FileShare.Delete))
        {
            // Shorter than what was read: the trainer rewound the file (resume or rollback); read it again.
            if (stream.Length < _offset) _offset = 0;
            if (stream.Length == _offset) return;
            stream.Position = _offset;
            bytes = new byte[stream.Length - _offset];
            stream.ReadExactly(bytes);
        }
        var end = Array.LastIndexOf(bytes, (byte)'\n');
        if (end < 0) return;
        _offset += end + 1;
        foreach (var line in Encoding.UTF8.GetString(bytes, 0, end).Split('\n', StringSplitOptions.RemoveEmptyEntries))
        {
            MetricsLine? m;
            try
            {
                m = JsonSerializer.Deserialize<MetricsLine>(line, LineOptions);
            }
            catch (JsonException)
            {
                continue; // a line cut by a crash of the writer
            }
            if (m is null || m.Step <= LastStep) continue;
            LastStep = m.Step;
            _progress.Report(new StepCompleted(m.Step, _totalSteps, m.Loss, m.TaskLoss, m.LearningRate, m.GradNorm, m.TokensSeen,
                m.TokensPerSecond, m.Mfu, m.DataSeconds, m.ForwardSeconds, m.BackwardSeconds, m.OptimizerSeconds, m.Skipped, m.SyncSeconds));
            if (m.HeldOutLoss is { } heldOut) _progress.Report(new HeldOutEvaluated(m.Step, heldOut));
        }
    }
}
