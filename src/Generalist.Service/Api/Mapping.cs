using System.Text.Json;
using Generalist.Service.Api.V1;
using Generalist.Service.Jobs;
using Generalist.Service.Kernel;
using Generalist.Service.Registry;
using Generalist.Training;
using Google.Protobuf.WellKnownTypes;

namespace Generalist.Service.Api;

/// <summary>
/// Requests to the domain's, registry records and job events to API messages (job states:
/// <see cref="JobStateMapping"/>). Paths leave the service relative to the data root.
/// </summary>
public static class Mapping
{
    public static Timestamp Time(long unixMs) => Timestamp.FromDateTimeOffset(DateTimeOffset.FromUnixTimeMilliseconds(unixMs));

    public static NewEvaluation ToDomain(this CreateEvaluationRequest r) => new(r.Name, r.Checkpoint, r.Run, r.Suite, r.Episodes, r.Seed);

    public static NewStudy ToDomain(this CreateStudyRequest r) => new(r.Name, r.Kind, r.ConfigPath);

    public static Run ToProto(this RunRecord r, DataLayout layout)
    {
        var run = new Run
        {
            ConfigJson = r.ConfigJson,
            Loss = r.Loss ?? double.NaN,
            Step = r.Step,
            TotalSteps = r.TotalSteps,
            TokensPerSecond = r.TokensPerSecond,
            TokensSeen = r.TokensSeen,
            RunDirectory = layout.ToRelative(layout.RunDirectory(r.Name)),
            LastCheckpoint = r.LastCheckpoint ?? "",
            Attempts = r.Attempts,
        }.WithJobFields(r);
        if (r.StartTime is { } s) run.StartTime = Time(s);
        if (r.EndTime is { } e) run.EndTime = Time(e);
        foreach (var beat in Generalist.Distributed.Heartbeat.ReadAll(Generalist.Distributed.Heartbeat.DirectoryOf(layout.RunDirectory(r.Name))))
            run.Ranks.Add(new RankStatus
            {
                Rank = beat.Rank, Pid = beat.Pid, Host = beat.Host, Step = beat.Step, State = beat.State, Detail = beat.Detail,
                Collectives = beat.Collective, CollectiveInProgress = beat.InCollective ? beat.Operation : "", UpdateTime = Time(beat.UpdatedUnixMs),
            });
        return run;
    }

    public static V1.Evaluation ToProto(this EvaluationRecord r, DataLayout layout)
    {
        var e = new V1.Evaluation
        {
            Checkpoint = r.Checkpoint, Suite = r.Suite, Episodes = r.Episodes, Seed = r.Seed,
            ProgressTask = r.ProgressTask ?? "", ProgressDone = r.ProgressDone, ProgressTotal = r.ProgressTotal,
        }.WithJobFields(r);
        if (r.ResultJson is not null)
        {
            var result = JsonSerializer.Deserialize<Generalist.Evaluation.EvaluationResult>(r.ResultJson, StoredJson.Options)!;
            e.Result = new V1.EvaluationResult
            {
                TasksAtOrAbove50 = result.TasksAtOrAbove50,
                TasksAtOrAbove80 = result.TasksAtOrAbove80,
                JsonPath = layout.ToRelative(result.JsonPath),
                MarkdownPath = layout.ToRelative(result.MarkdownPath),
            };
            if (result.MeanNormalizedScore is { } mean) e.Result.MeanNormalizedScore = mean;
            foreach (var t in result.Tasks)
            {
                var score = new V1.TaskScore { Task = t.Task, Family = t.Family };
                foreach (var (k, v) in t.Metrics) score.Metrics[k] = v;
                if (t.NormalizedScore is { } n) score.NormalizedScore = n;
                e.Result.Tasks.Add(score);
            }
        }
        return e;
    }

    public static Study ToProto(this StudyRecord r)
    {
        var s = new Study
        {
            Kind = r.Kind, ConfigPath = r.ConfigPath, OutputDirectory = r.OutputDirectory,
            ProgressStage = r.ProgressStage ?? "", ProgressDone = r.ProgressDone, ProgressTotal = r.ProgressTotal,
        }.WithJobFields(r);
        if (r.ResultJson is not null)
        {
            var result = JsonSerializer.Deserialize<StoredStudyResult>(r.ResultJson, StoredJson.Options)!;
            s.ReportPath = result.ReportPath;
            s.Artifacts.AddRange(result.Artifacts);
        }
        return s;
    }

    public static RunEvent ToProto(this JobEvent<RunRecord> e, DataLayout layout)
    {
        var message = Envelope(new RunEvent(), e, r => r.ToProto(layout));
        switch (e)
        {
            case RunStep step:
                message.Step = ToProto(step.Step);
                break;
            case RunHeldOut heldOut:
                message.HeldOut = new HeldOutLoss { Step = heldOut.HeldOut.Step };
                foreach (var (task, value) in heldOut.HeldOut.TaskLoss) message.HeldOut.TaskLoss[task] = value;
                break;
            case RunCheckpoint checkpoint:
                message.Checkpoint = new CheckpointSaved { Step = checkpoint.Step, Path = checkpoint.Path };
                break;
        }
        return message;
    }

    public static EvaluationEvent ToProto(this JobEvent<EvaluationRecord> e, DataLayout layout)
    {
        var message = Envelope(new EvaluationEvent(), e, r => r.ToProto(layout));
        if (e is JobProgress<EvaluationRecord> p) message.Progress = new V1.EvaluationProgress { Task = p.Stage, Done = p.Done, Total = p.Total };
        return message;
    }

    public static StudyEvent ToProto(this JobEvent<StudyRecord> e)
    {
        var message = Envelope(new StudyEvent(), e, r => r.ToProto());
        if (e is JobProgress<StudyRecord> p) message.Progress = new V1.StudyProgress { Stage = p.Stage, Done = p.Done, Total = p.Total, Message = p.Message ?? "" };
        return message;
    }

    /// <summary>The name, state, failure reason and times every job resource has.</summary>
    private static T WithJobFields<T>(this T message, IJobRecord r) where T : IJobMessage
    {
        message.Name = r.Name;
        message.State = r.State.ToProto();
        message.FailureReason = r.FailureReason ?? "";
        message.CreateTime = Time(r.CreateTime);
        message.UpdateTime = Time(r.UpdateTime);
        return message;
    }

    /// <summary>A job event's name and time, and the cases every job's events have (snapshot, state).</summary>
    private static TMessage Envelope<TMessage, TRecord, TSnapshot>(TMessage message, JobEvent<TRecord> e, Func<TRecord, TSnapshot> snapshot)
        where TMessage : IJobEventMessage<TSnapshot> where TRecord : IJobRecord
    {
        message.Job = e.Job;
        message.Time = Timestamp.FromDateTimeOffset(e.Time);
        switch (e)
        {
            case JobSnapshot<TRecord> s:
                message.Snapshot = snapshot(s.Record);
                break;
            case JobStateChange<TRecord> c:
                message.State = new StateChanged { State = c.State.ToProto(), Reason = c.Reason };
                break;
        }
        return message;
    }

    private static StepProgress ToProto(StepCompleted s)
    {
        var progress = new StepProgress
        {
            Step = s.Step,
            TotalSteps = s.TotalSteps,
            Loss = s.Loss,
            LearningRate = s.LearningRate,
            GradNorm = s.GradNorm,
            TokensSeen = s.TokensSeen,
            TokensPerSecond = s.TokensPerSecond,
            Mfu = s.Mfu,
            StepSeconds = s.DataSeconds + s.ForwardSeconds + s.BackwardSeconds + s.OptimizerSeconds + s.SyncSeconds,
            Skipped = s.Skipped,
        };
        foreach (var (task, loss) in s.TaskLoss) progress.TaskLoss[task] = loss;
        return progress;
    }
}
