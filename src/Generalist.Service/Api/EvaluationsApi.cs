using Generalist.Service.Api.V1;
using Generalist.Service.Jobs;
using Generalist.Service.Kernel;
using Generalist.Service.Registry;
using Generalist.Service.Scheduling;
using Grpc.Core;

namespace Generalist.Service.Api;

public sealed class EvaluationsApi(EvaluationManager evaluations, EventHub<JobEvent<EvaluationRecord>> hub, DataLayout layout) : V1.Evaluations.EvaluationsBase
{
    public override Task<V1.Evaluation> CreateEvaluation(CreateEvaluationRequest request, ServerCallContext context) =>
        Task.FromResult(evaluations.Create(request.ToDomain()).ToProto(layout));

    public override Task<V1.Evaluation> GetEvaluation(GetEvaluationRequest request, ServerCallContext context)
    {
        JobNames.Require(request.Name);
        return Task.FromResult(evaluations.Get(request.Name).ToProto(layout));
    }

    public override Task WatchEvaluation(WatchEvaluationRequest request, IServerStreamWriter<EvaluationEvent> responseStream, ServerCallContext context) =>
        WatchStream.WriteAsync(hub, request.Name, evaluations.Get, e => e.ToProto(layout), responseStream, context);
}
