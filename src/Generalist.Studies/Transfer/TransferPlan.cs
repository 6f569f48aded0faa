
using Generalist.RunFormat;

namespace Generalist.Studies.Transfer;

/// <summary>One sub-run of a transfer study. InitFromRun names the sub-run whose final weights it starts from.</summary>
public sealed record TransferStep(string Name, string Role, RunConfig Config, string? InitFromRun, string? Family);

/// <summary>
/// The sub-runs of a transfer study, in the order they must run (a fine-tuning run after the
/// generalist it starts from): the generalist on all tasks; one specialist per task with the same
/// model and steps; per family, a generalist without it, that generalist fine-tuned on the family,
/// and the family trained from scratch for the same fine-tuning steps (Gato's section 5.2 ablation).
/// </summary>
public static class TransferPlan
{
    public const string Generalist = "generalist", Specialist = "specialist", LeaveOut = "leave_one_out", FineTuned = "fine_tuned", Scratch = "scratch";

    public static List<TransferStep> Build(StudyConfig config)
    {
        var baseRun = config.BaseRun;
        var steps = new List<TransferStep> { new("generalist", Generalist, baseRun, null, null) };
        if (config.Transfer.Specialists && baseRun.Tasks.Count > 1)
            foreach (var task in baseRun.Tasks)
                steps.Add(new($"specialist-{task.Name}", Specialist, baseRun with { Tasks = [task] }, null, FamilyOf(config, task.Name)));
        if (config.Transfer.LeaveOneFamilyOut)
        {
            foreach (var (family, members) in config.Transfer.Families.OrderBy(f => f.Key, StringComparer.Ordinal))
            {
                var kept = baseRun.Tasks.Where(t => !members.Contains(t.Name)).ToList();
                var familyTasks = baseRun.Tasks.Where(t => members.Contains(t.Name)).ToList();
                if (kept.Count == 0 || familyTasks.Count == 0) continue;
                var fineTune = baseRun with
                {
                    Tasks = familyTasks,
                    Steps = config.Transfer.FinetuneSteps,
                    Optimizer = baseRun.Optimizer with { WarmupSteps = Math.Min(baseRun.Optimizer.WarmupSteps, Math.Max(config.Transfer.FinetuneSteps / 10, 1)) },
                    // The fine-tuning curves want ~10 points (plus step 0) whatever the base cadence.
                    HeldOut = baseRun.HeldOut with { Every = FineTuneHeldOutEvery(config.Transfer.FinetuneSteps, baseRun.HeldOut.Every) },
                };
                steps.Add(new($"without-{family}", LeaveOut, baseRun with { Tasks = kept }, null, family));
                steps.Add(new($"without-{family}-finetuned", FineTuned, fineTune, $"without-{family}", family));
                if (config.Transfer.ScratchBaseline)
                    steps.Add(new($"scratch-{family}", Scratch, fineTune, null, family));
            }
        }
        return steps;
    }

    /// <summary>Held-out cadence of fine-tuning and from-scratch runs: about 10 evaluations, never sparser than the base run's.</summary>
    public static int FineTuneHeldOutEvery(int finetuneSteps, int baseEvery)
    {
        var every = Math.Max(1, finetuneSteps / 10);
        return baseEvery > 0 ? Math.Min(every, baseEvery) : every;
    }

    public static string? FamilyOf(StudyConfig config, string task) =>
        config.Transfer.Families.FirstOrDefault(f => f.Value.Contains(task)).Key;
}
