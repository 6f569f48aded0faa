
using Generalist.RunFormat;

namespace Generalist.Studies;

/// <summary>
/// Every field of a study config: path, description and rule. <see cref="StudyConfig.Validate"/>
/// checks the rules given here and `generalist config show --study` prints them; the checks that
/// span fields (families against base.tasks, the ablation's merged variants) stay in the validator
/// and are described here in words.
/// </summary>
public static class StudyConfigFields
{
    public static IReadOnlyList<ConfigField<StudyConfig>> All { get; } =
    [
        new("name", "Study name; the output goes to checkpoints/studies/<name> unless --out is given.",
            FieldRule.Where(RunNames.Rule["must be ".Length..], v => RunNames.IsValid(v as string)), c => c.Name),
        new("base", "A full run config (every field of `generalist config show`): the sub-runs are derived from it by changing " +
                    "only the tasks, preset, steps or seed (transfer, scaling) or by merging each variant's overrides (ablation).",
            FieldRule.Any("a run config object (required)")),

        new("evaluation", "How each sub-run's final checkpoint is evaluated.", FieldRule.Any("an object")),
        new("evaluation.suite", "Evaluation suite.", FieldRule.OneOf(StudyConfig.Suites), c => (c.Evaluation ?? new()).Suite),
        new("evaluation.episodes", "Control episodes per task, on seeds disjoint from training.", FieldRule.Int(1, 10_000), c => (c.Evaluation ?? new()).Episodes),
        new("evaluation.seed", "First evaluation rollout seed.", FieldRule.Where(">= 0", v => v is long s && s >= 0), c => (c.Evaluation ?? new()).Seed),
        new("evaluation.all_tasks", "Transfer: evaluate every sub-run on every task of the study (fills the heatmap).", FieldRule.Bool),

        new("transfer", "The transfer study's sub-runs.", FieldRule.Any("an object")),
        new("transfer.families", "Family name -> its tasks; every base task in exactly one family (a transfer study needs them).",
            FieldRule.Any("an object of family name -> list of base.tasks names, each task in one family")),
        new("transfer.specialists", "Train one specialist per task (same model and steps as the generalist).", FieldRule.Bool),
        new("transfer.leave_one_family_out", "Train leave-one-family-out generalists and fine-tune each on its left-out family (needs 2+ families).", FieldRule.Bool),
        new("transfer.finetune_steps", "Fine-tuning steps on the left-out family (also the from-scratch comparison's steps).",
            FieldRule.Int(1, 10_000_000), c => (c.Transfer ?? new()).FinetuneSteps),
        new("transfer.scratch_baseline", "Also train the left-out family from scratch for finetune_steps.", FieldRule.Bool),

        new("scaling", "The scaling study's sub-runs.", FieldRule.Any("an object")),
        new("scaling.presets", "Model presets, e.g. the ladder rungs ladder-0..ladder-7.", FieldRule.Any("a list of at least 4 distinct preset names")),
        new("scaling.steps", "Training steps per run; several values give several token budgets and the L(N, D) fit; empty = base.steps.",
            FieldRule.Any("a list of whole numbers, each in [1, 10000000]")),
        new("scaling.seeds", "Seeds per (size, steps); more seeds give more points for the bootstrap.", FieldRule.Any("a list of at least one whole number")),
        new("scaling.min_decades", "Decades of non-embedding parameters the presets must span at least.", FieldRule.Number(0, 10), c => (c.Scaling ?? new()).MinDecades),

        new("ablation", "The ablation study's variants.", FieldRule.Any("an object")),
        new("ablation.variants", "Variants, each {\"name\": RUN-NAME, \"overrides\": {...}} deep-merged onto base (objects recursively, " +
                                 "anything else replaced); empty = the default ladder from Gato exact to this project's defaults.",
            FieldRule.Any("a list of variants with distinct valid names whose merged configs are valid run configs")),
        new("ablation.seeds", "Training seeds; every variant is trained once per seed.", FieldRule.Any("a list of at least one whole number")),

        new("icl", "The in-context learning study: behaviour against the algorithms, probes, MovieLens in context.", FieldRule.Any("an object")),
        new("icl.checkpoint", "Analyse this checkpoint (step-N or run directory; a relative path is read from the study config's folder) instead of training base.",
            FieldRule.Where("a directory path without control characters", v => v is string p && p.Trim().Length > 0 && !p.Any(char.IsControl)).OrNull("training base"),
            c => (c.Icl ?? new()).Checkpoint),
        new("icl.prompts", "Held-out prompts per condition of the behaviour analysis (in distribution, noisy y, scaled x, longer prompts).",
            FieldRule.Int(8, 1_936), c => (c.Icl ?? new()).Prompts),
        new("icl.tuning_prompts", "Other held-out prompts on which gradient descent's step size per step count is chosen.", FieldRule.Int(1, 1_024), c => (c.Icl ?? new()).TuningPrompts),
        new("icl.probe_prompts", "Prompts whose residual streams are probed; at most icl.prompts.", FieldRule.Int(8, 1_936), c => (c.Icl ?? new()).ProbePrompts),
        new("icl.probe_train_fraction", "Fraction of the probed prompts that fit the probes; the others (other functions) score them.",
            FieldRule.Number(0, 1, minOpen: true, maxOpen: true), c => (c.Icl ?? new()).ProbeTrainFraction),
        new("icl.probe_ridge", "Probe ridge strength per training row, on standardized features.", FieldRule.Number(0, 100, minOpen: true), c => (c.Icl ?? new()).ProbeRidge),
        new("icl.ood_noise", "Extra noise on y in the noisy-y condition, in units of f's standard deviation.", FieldRule.Number(0, 10), c => (c.Icl ?? new()).OodNoise),
        new("icl.ood_input_scale", "Factor on x in the scaled-x condition.", FieldRule.Number(0, 100, minOpen: true), c => (c.Icl ?? new()).OodInputScale),

        new("bootstrap", "Bootstrap of the confidence intervals in the reports.", FieldRule.Any("an object")),
        new("bootstrap.samples", "Bootstrap resamples.", FieldRule.Int(10, 100_000), c => (c.Bootstrap ?? new()).Samples),
        new("bootstrap.seed", "Seed of the bootstrap.", FieldRule.Any("a whole number")),
        new("bootstrap.confidence", "Confidence level of the intervals.", FieldRule.Number(0, 1, minOpen: true, maxOpen: true), c => (c.Bootstrap ?? new()).Confidence),
    ];

    public static IReadOnlyList<FieldDoc> Docs { get; } = All.Select(f => f.Doc).ToList();
}
