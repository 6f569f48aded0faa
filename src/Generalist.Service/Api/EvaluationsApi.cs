using Generalist.Service.Api.V1;
using Generalist.Service.Hosting;
using Generalist.Service.Jobs;
using Generalist.Service.Registry;
using Generalist.Service.Scheduling;
using Grpc.Core;

namespace Generalist.Service.Api;

public sealed class EvaluationsApi(EvaluationManager evaluations, EventHub<EvaluationEvent> hub, DataLayout layout) : V1.Evaluations.EvaluationsBase
{
    public override Task<V1.Evaluation> CreateEvaluation(CreateEvaluationRequest request, ServerCallContext context) =>
        Task.FromResult(evaluations.Create(request).ToProto(layout));

    public override Task<V1.Evaluation> GetEvaluation(GetEvaluationRequest request, ServerCallContext context)
    {
        JobNames.Require(request.Name);
        return Task.FromResult(evaluations.Get(request.Name).ToProto(layout));
    }

    public override async Task WatchEvaluation(WatchEvaluationRequest request, IServerStreamWriter<EvaluationEvent> responseStream, ServerCallContext context)
    {
        JobNames.Require(request.Name);
        using var subscription = hub.Subscribe(request.Name);
        var evaluation = evaluations.Get(request.Name);
        await responseStream.WriteAsync(new EvaluationEvent { Evaluation = evaluation.Name, Time = Mapping.Time(evaluation.UpdateTime), Snapshot = evaluation.ToProto(layout) }, context.CancellationToken);
        if (JobStates.IsResting(evaluation.State)) return;
        await foreach (var e in subscription.Reader.ReadAllAsync(context.CancellationToken))
            await responseStream.WriteAsync(e, context.CancellationToken);
    }
}

public sealed class StudiesApi(StudyManager studies, EventHub<StudyEvent> hub) : V1.Studies.StudiesBase
{
    public override Task<Study> CreateStudy(CreateStudyRequest request, ServerCallContext context) =>
        Task.FromResult(studies.Create(request).ToProto());

    public override Task<Study> GetStudy(GetStudyRequest request, ServerCallContext context)
    {
        JobNames.Require(request.Name);
        return Task.FromResult(studies.Get(request.Name).ToProto());
    }

    public override async Task WatchStudy(WatchStudyRequest request, IServerStreamWriter<StudyEvent> responseStream, ServerCallContext context)
    {
        JobNames.Require(request.Name);
        using var subscription = hub.Subscribe(request.Name);
        var study = studies.Get(request.Name);
        await responseStream.WriteAsync(new StudyEvent { Study = study.Name, Time = Mapping.Time(study.UpdateTime), Snapshot = study.ToProto() }, context.CancellationToken);
        if (JobStates.IsResting(study.State)) return;
        await foreach (var e in subscription.Reader.ReadAllAsync(context.CancellationToken))
            await responseStream.WriteAsync(e, context.CancellationToken);
    }
}
