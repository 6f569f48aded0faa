
using Generalist.Episodes;

namespace Generalist.Evaluation;

/// <summary>How much of each family a suite evaluates.</summary>
/// <param name="HeldOutSequences">Held-out episodes per task for teacher-forced loss.</param>
/// <param name="RegressionSequences">Held-out in-context regression sequences.</param>
/// <param name="Captions">Held-out images captioned greedily.</param>
/// <param name="MaxEpisodes">Cap on control episodes per task (the request's count is used up to this).</param>
/// <param name="MaxScoredTokens">Held-out loss is computed on at most this many leading tokens of each sequence (long control episodes).</param>
public sealed record SuiteBudget(int HeldOutSequences, int RegressionSequences, int Captions, int MaxEpisodes, int MaxScoredTokens);

/// <summary>A named suite: the task families it covers and its budget.</summary>
public sealed record Suite(string Name, IReadOnlyList<TaskFamily> Families, SuiteBudget Budget, string Description);

/// <summary>
/// The evaluation suites. Within a suite only the tasks the checkpoint was trained on are
/// evaluated unless the request names tasks. "default" covers every family with small budgets so
/// that a tiny model is evaluated on two CPU cores in a few minutes; its control budget stays at
/// 50 episodes, because a score from 5 episodes has an interval too wide to judge a policy by.
/// </summary>
public static class Suites
{
    private static readonly TaskFamily[] Every = [TaskFamily.Control, TaskFamily.VisionLanguage, TaskFamily.Language, TaskFamily.InContext];
    private static readonly SuiteBudget Full = new(HeldOutSequences: 64, RegressionSequences: 256, Captions: 200, MaxEpisodes: 10_000, MaxScoredTokens: 8192);

    public static IReadOnlyList<Suite> All { get; } =
    [
        new("control", [TaskFamily.Control], Full, "online rollouts; expert-normalized score against live expert and random returns on the same seeds"),
        new("vision-language", [TaskFamily.VisionLanguage], Full, "greedy caption exact match and teacher-forced token accuracy on held-out images"),
        new("language", [TaskFamily.Language], Full, "held-out loss and bits per byte"),
        new("icl", [TaskFamily.InContext], Full, "in-context regression MSE vs k with baselines; MovieLens RMSE with baselines"),
        new("default", Every, new SuiteBudget(HeldOutSequences: 8, RegressionSequences: 32, Captions: 16, MaxEpisodes: 50, MaxScoredTokens: 1024), "every family, small budgets (a CPU check); 50 control episodes"),
        new("all", Every, Full, "every family, full budgets"),
    ];

    public static IReadOnlyList<string> Names { get; } = All.Select(s => s.Name).ToArray();

    public static Suite Get(string name) =>
        All.FirstOrDefault(s => s.Name == name) ?? throw new ArgumentException($"suite: unknown suite '{name}'; valid suites: {string.Join(", ", Names)}");
}
