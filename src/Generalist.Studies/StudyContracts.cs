namespace Generalist.Studies;

/// <summary>The kinds of study <see cref="IStudyRunner"/> runs (the CLI's `generalist study KIND` and the service's CreateStudy kind).</summary>
public static class StudyKinds
{
    public const string Transfer = "transfer", Scaling = "scaling", Ablation = "ablation", Icl = "icl";

    public static IReadOnlyList<string> All { get; } = [Transfer, Scaling, Ablation, Icl];
}

/// <summary>Which study to run and where; the study's own JSON config lives at ConfigPath.</summary>
public sealed record StudyRequest(string Kind, string ConfigPath, string OutputDirectory);

public sealed record StudyProgress(string Stage, int Done, int Total, string? Message = null);

public sealed record StudyResult(string Kind, string OutputDirectory, string ReportPath, IReadOnlyList<string> Artifacts);

/// <summary>Transfer, scaling, ablation and in-context learning studies; resumable: finished sub-runs are not redone.</summary>
public interface IStudyRunner
{
    Task<StudyResult> RunAsync(StudyRequest request, IProgress<StudyProgress>? progress, CancellationToken cancellationToken);
}
