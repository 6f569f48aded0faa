using System.CommandLine;
using Generalist.Evaluation;
using Spectre.Console;

namespace Generalist.Cli.Commands;

/// <summary>
/// `generalist eval --checkpoint PATH --suite NAME [--episodes N] [--continuous-decoding mode|expected|smoothed] [--json]`: evaluates a checkpoint
/// locally and writes evaluation-SUITE.json and evaluation-SUITE.md into the checkpoint directory.
/// </summary>
public static class EvalCommand
{
    public static Command Create()
    {
        var checkpoint = new Option<string>("--checkpoint") { Description = "Checkpoint directory (…/checkpoints/step-N).", Required = true };
        var suite = new Option<string>("--suite") { Description = $"Suite: {string.Join(", ", Suites.Names)}.", DefaultValueFactory = _ => "default" };
        var episodes = new Option<int>("--episodes") { Description = "Control episodes per task (1-10000).", DefaultValueFactory = _ => 50 };
        var seed = new Option<long>("--seed") { Description = "First rollout seed (must avoid the run's data seeds).", DefaultValueFactory = _ => 1_000_003 };
        var sample = new Option<bool>("--sample") { Description = "Sample actions from the model instead of taking the most likely." };
        var decoding = new Option<string>("--continuous-decoding")
        {
            Description = "Greedy continuous actions from the bin distribution: mode (argmax bin), expected (mean value), smoothed (argmax after a small Gaussian over neighbouring bins).",
            DefaultValueFactory = _ => "expected",
        };
        var tasks = new Option<string?>("--tasks") { Description = $"Tasks to evaluate even if not trained on, comma-separated (default: the checkpoint's tasks in the suite). Tasks: {TaskList.Known}." };
        var json = CliApp.JsonOption();
        var command = new Command("eval", "Evaluate a checkpoint on a suite; writes evaluation-SUITE.json and evaluation-SUITE.md beside its weights (one pair per suite).")
            { checkpoint, suite, episodes, seed, sample, decoding, tasks, json };
        command.SetAction((parse, ct) => CommandErrors.GuardAsync(async () =>
        {
            var asJson = parse.GetValue(json);
            var options = new EvaluatorOptions { ContinuousDecoding = Generalist.Evaluation.Scoring.ContinuousActionDecoder.Parse(parse.GetValue(decoding)!) };
            Generalist.Torch.TorchRuntime.EnsureLoaded();
            var taskList = parse.GetValue(tasks) is { } taskText ? TaskList.Names(taskText) : null;
            var request = new EvaluationRequest(parse.GetValue(checkpoint)!, parse.GetValue(suite)!, parse.GetValue(episodes), parse.GetValue(seed),
                Greedy: !parse.GetValue(sample), Tasks: taskList);
            var progress = new EvalProgressLines(asJson ? TextWriter.Null : Console.Error);
            var result = await new Evaluator(options).EvaluateAsync(request, progress, ct);
            if (asJson)
            {
                CliApp.WriteJson(result);
                return ExitCodes.Ok;
            }
            var table = new Table().AddColumns("task", "family", "held-out loss", "main metric", "normalized score [[95% CI]]");
            foreach (var t in result.Tasks)
            {
                var main = t.Family switch
                {
                    "control" => $"return {t.Metrics["return"]:0.##} (expert {t.Metrics["expert_return"]:0.##}, random {t.Metrics["random_return"]:0.##}), expert agreement {t.Metrics.GetValueOrDefault("expert_agreement"):0.##}",
                    "language" => $"bits/byte {t.Metrics.GetValueOrDefault("bits_per_byte"):0.###}",
                    "vision-language" => $"exact match {t.Metrics.GetValueOrDefault("exact_match"):0.###}, token acc. {t.Metrics.GetValueOrDefault("token_accuracy"):0.###}",
                    _ => t.Metrics.TryGetValue("rmse", out var rmse) ? $"RMSE {rmse:0.###} (bias baseline {t.Metrics["user_item_bias_rmse"]:0.###})" : $"MSE at k=2d {t.Metrics.GetValueOrDefault("mse"):0.####}",
                };
                table.AddRow(Markup.Escape(t.Task), t.Family, Generalist.Cli.Output.Numbers.Loss(t.Metrics["loss"]), Markup.Escape(main), Markup.Escape(Score(t)));
            }
            Generalist.Cli.Output.CliTable.Write(table);
            if (result.Control is { MeanNormalizedScore: { } mean } c)
                AnsiConsole.MarkupLine($"mean normalized score {mean:0.#} {Ci(c.MeanInterval)}, IQM {c.InterquartileMean:0.#} {Ci(c.InterquartileMeanInterval)}; " +
                                       $"{c.TasksAtOrAbove50} task(s) >= 50, {c.TasksAtOrAbove80} >= 80 ({c.EpisodesPerTask} episodes per task, {Markup.Escape(c.Decoding)})");
            if (result.Control?.CapNote is { } cap) AnsiConsole.MarkupLine($"[yellow]{Markup.Escape(cap)}[/]");
            AnsiConsole.MarkupLine($"report: {Markup.Escape(result.MarkdownPath)}");
            return ExitCodes.Ok;
        }));
        return command;
    }

    /// <summary>
    /// Progress on stderr, in order (on the evaluating thread: Progress&lt;T&gt; would post to the thread
    /// pool), naming what it counts: "task 2/4: cartpole", then "cartpole: episode 3/5"; a note such
    /// as the suite's episode cap is said once, when it first applies.
    /// </summary>
    internal sealed class EvalProgressLines(TextWriter log) : IProgress<EvaluationProgress>
    {
        private readonly HashSet<string> _notes = [];

        public void Report(EvaluationProgress p)
        {
            if (p.Note is { } note && _notes.Add(note)) log.WriteLine($"note: {note}");
            if (p.Task.Length == 0) return;
            log.WriteLine(p.Unit == EvaluationProgress.Episodes ? $"{p.Task}: episode {p.Done}/{p.Total}" : $"task {p.Done + 1}/{p.Total}: {p.Task}");
        }
    }

    private static string Score(TaskScore t) =>
        t.NormalizedScore is not { } s ? "-"
        : t.Metrics.TryGetValue("normalized_score_ci_low", out var low) ? $"{s:0.#} [{low:0.#}, {t.Metrics["normalized_score_ci_high"]:0.#}]" : $"{s:0.#}";

    private static string Ci(Generalist.Evaluation.Statistics.Interval? i) => i is null ? "" : Markup.Escape($"[{i.Low:0.#}, {i.High:0.#}]");
}
