using Generalist.Service.Api.V1;
using Generalist.Service.Jobs;
using Generalist.Service.Registry;
using Generalist.Service.Scheduling;
using Grpc.Core;

namespace Generalist.Service.Api;

public sealed class StudiesApi(StudyManager studies, EventHub<JobEvent<StudyRecord>> hub) : V1.Studies.StudiesBase
{
    public override Task<Study> CreateStudy(CreateStudyRequest request, ServerCallContext context) =>
        Task.FromResult(studies.Create(request.ToDomain()).ToProto());

    public override Task<Study> GetStudy(GetStudyRequest request, ServerCallContext context)
    {
        JobNames.Require(request.Name);
        return Task.FromResult(studies.Get(request.Name).ToProto());
    }

    public override Task WatchStudy(WatchStudyRequest request, IServerStreamWriter<StudyEvent> responseStream, ServerCallContext context) =>
        WatchStream.WriteAsync(hub, request.Name, studies.Get, e => e.ToProto(), responseStream, context);
}
