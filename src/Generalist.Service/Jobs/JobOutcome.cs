using System.Diagnostics;
using Generalist.Service.Registry;

namespace Generalist.Service.Jobs;

/// <summary>
/// How an evaluation or a study ended: its work either returns the JSON to store, is interrupted
/// by the service stopping, or fails with a message (also marked on the job's span).
/// </summary>
internal static class JobOutcome
{
    public static async Task<(JobState State, string Reason, string? ResultJson)> RunAsync(
        Func<Task<string>> work, string interruptedReason, Activity? activity, CancellationToken ct)
    {
        try
        {
            return (JobState.Succeeded, "completed", await work());
        }
        catch (OperationCanceledException) when (ct.IsCancellationRequested)
        {
            return (JobState.Interrupted, interruptedReason, null);
        }
        catch (Exception e)
        {
            activity?.SetStatus(ActivityStatusCode.Error, e.Message);
            return (JobState.Failed, e.Message, null);
        }
    }
}
