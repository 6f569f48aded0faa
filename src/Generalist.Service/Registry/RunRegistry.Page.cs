namespace Generalist.Service.Registry;

/// <summary>Queries of the live run page (Page/RunPages.cs).</summary>
public sealed partial class RunRegistry
{
    /// <summary>The newest succeeded evaluation of a checkpoint under a directory (a run's: runs/NAME/); null when none.</summary>
    public EvaluationRecord? NewestSucceededEvaluationUnder(string checkpointDirectory)
    {
        string? name;
        lock (_gate)
        {
            // substr, not LIKE: run names may hold '_', which LIKE reads as a wildcard.
            using var cmd = Command("SELECT name FROM evaluations WHERE state='succeeded' AND substr(checkpoint, 1, length(@p))=@p ORDER BY seq DESC LIMIT 1", null,
                ("@p", checkpointDirectory));
            name = cmd.ExecuteScalar() as string;
        }
        return name is null ? null : GetEvaluation(name);
    }
}
