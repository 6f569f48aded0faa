using System.Text.Json;
using Generalist.Service.Api.V1;
using Generalist.Service.Hosting;
using Generalist.Service.Registry;
using Google.Protobuf.WellKnownTypes;

namespace Generalist.Service.Api;

/// <summary>Registry records to API messages. Paths leave the service relative to the data root.</summary>
public static class Mapping
{
    public static Timestamp Time(long unixMs) => Timestamp.FromDateTimeOffset(DateTimeOffset.FromUnixTimeMilliseconds(unixMs));

    public static Run ToProto(this RunRecord r, DataLayout layout)
    {
        var run = new Run
        {
            Name = r.Name,
            State = r.State,
            ConfigJson = r.ConfigJson,
            Step = r.Step,
            TotalSteps = r.TotalSteps,
            Loss = r.Loss ?? double.NaN,
            TokensPerSecond = r.TokensPerSecond,
            TokensSeen = r.TokensSeen,
            RunDirectory = layout.ToRelative(layout.RunDirectory(r.Name)),
            LastCheckpoint = r.LastCheckpoint ?? "",
            FailureReason = r.FailureReason ?? "",
            Attempts = r.Attempts,
            CreateTime = Time(r.CreateTime),
            UpdateTime = Time(r.UpdateTime),
        };
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
            Name = r.Name,
            State = r.State,
            Checkpoint = r.Checkpoint,
            Suite = r.Suite,
            Episodes = r.Episodes,
            Seed = r.Seed,
            FailureReason = r.FailureReason ?? "",
            ProgressTask = r.ProgressTask ?? "",
            ProgressDone = r.ProgressDone,
            ProgressTotal = r.ProgressTotal,
            CreateTime = Time(r.CreateTime),
            UpdateTime = Time(r.UpdateTime),
        };
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
            Name = r.Name,
            Kind = r.Kind,
            State = r.State,
            ConfigPath = r.ConfigPath,
            OutputDirectory = r.OutputDirectory,
            FailureReason = r.FailureReason ?? "",
            ProgressStage = r.ProgressStage ?? "",
            ProgressDone = r.ProgressDone,
            ProgressTotal = r.ProgressTotal,
            CreateTime = Time(r.CreateTime),
            UpdateTime = Time(r.UpdateTime),
        };
        if (r.ResultJson is not null)
        {
            var result = JsonSerializer.Deserialize<StoredStudyResult>(r.ResultJson, StoredJson.Options)!;
            s.ReportPath = result.ReportPath;
            s.Artifacts.AddRange(result.Artifacts);
        }
        return s;
    }
}

/// <summary>A study result as stored: paths already relative to the data root.</summary>
public sealed record StoredStudyResult(string ReportPath, IReadOnlyList<string> Artifacts);

/// <summary>How results are stored in the registry's JSON columns (NaN allowed: a score can be undefined).</summary>
public static class StoredJson
{
    public static readonly JsonSerializerOptions Options = new()
    {
        PropertyNamingPolicy = JsonNamingPolicy.SnakeCaseLower,
        NumberHandling = System.Text.Json.Serialization.JsonNumberHandling.AllowNamedFloatingPointLiterals,
    };
}
