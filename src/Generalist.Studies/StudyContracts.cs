namespace Generalist.Studies;

/// <summary>Which study to run and where; the study's own JSON config lives at ConfigPath.</summary>
public sealed record StudyRequest(string Kind, string ConfigPath, string OutputDirectory);

public sealed record StudyProgress(string Stage, int Done, int Total, string? Message = null);

public sealed record StudyResult(string Kind, string OutputDirectory, string ReportPath, IReadOnlyList<string> Artifacts);

/// <summary>Transfer and scaling studies; resumable: finished sub-runs are not redone.</summary>
public interface IStudyRunner
{
    Task<StudyResult> RunAsync(StudyRequest request, IProgress<StudyProgress>? progress, CancellationToken cancellationToken);
}
