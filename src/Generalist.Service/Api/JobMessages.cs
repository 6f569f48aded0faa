using Google.Protobuf.WellKnownTypes;

namespace Generalist.Service.Api.V1;

/// <summary>The fields every job resource (Run, Evaluation, Study) has, so that one mapping fills them (<see cref="Mapping"/>).</summary>
internal interface IJobMessage
{
    string Name { get; set; }
    JobState State { get; set; }
    string FailureReason { get; set; }
    Timestamp CreateTime { get; set; }
    Timestamp UpdateTime { get; set; }
}

/// <summary>The envelope every job's Watch event (RunEvent, EvaluationEvent, StudyEvent) has: the job's name, the time, and the cases all share.</summary>
internal interface IJobEventMessage<TSnapshot>
{
    string Job { set; }
    Timestamp Time { get; set; }
    TSnapshot Snapshot { get; set; }
    StateChanged State { get; set; }
}

public sealed partial class Run : IJobMessage
{
}

public sealed partial class Evaluation : IJobMessage
{
}

public sealed partial class Study : IJobMessage
{
}

public sealed partial class RunEvent : IJobEventMessage<Run>
{
    string IJobEventMessage<Run>.Job { set => Run = value; }
}

public sealed partial class EvaluationEvent : IJobEventMessage<Evaluation>
{
    string IJobEventMessage<Evaluation>.Job { set => Evaluation = value; }
}

public sealed partial class StudyEvent : IJobEventMessage<Study>
{
    string IJobEventMessage<Study>.Job { set => Study = value; }
}
