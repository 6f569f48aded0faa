using System.CommandLine;
using Generalist.Evaluation;
using Spectre.Console;

namespace Generalist.Cli.Commands;

/// <summary>
/// `generalist eval --checkpoint PATH --suite NAME [--episodes N] [--json]`: evaluates a checkpoint
/// locally and writes evaluation.json and evaluation.md into the checkpoint directory.
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
        var tasks = new Option<string?>("--tasks") { Description = "Comma-separated tasks to evaluate even if not trained on (default: the suite's trained tasks)." };
        var json = CliApp.JsonOption();
        var command = new Command("eval", "Evaluate a checkpoint on a suite; writes evaluation.json and evaluation.md beside its weights.")
            { checkpoint, suite, episodes, seed, sample, tasks, json };
        command.SetAction((parse, ct) => CommandErrors.GuardAsync(async () =>
        {
            var asJson = parse.GetValue(json);
            Generalist.Torch.TorchRuntime.EnsureLoaded();
            var taskList = parse.GetValue(tasks)?.Split(',', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries);
            var request = new EvaluationRequest(parse.GetValue(checkpoint)!, parse.GetValue(suite)!, parse.GetValue(episodes), parse.GetValue(seed),
                Greedy: !parse.GetValue(sample), Tasks: taskList);
            var progress = new Progress<EvaluationProgress>(p =>
            {
                if (!asJson && p.Task.Length > 0) Console.Error.WriteLine($"[{p.Task}] {p.Done}/{p.Total}");
            });
            var result = await new Evaluator().EvaluateAsync(request, progress, ct);
            if (asJson)
            {
                CliApp.WriteJson(result);
                return ExitCodes.Ok;
            }
            var table = new Table().AddColumns("task", "family", "held-out loss", "main metric", "normalized score");
            foreach (var t in result.Tasks)
            {
                var main = t.Family switch
                {
                    "control" => $"return {t.Metrics["return"]:0.##} (expert {t.Metrics["expert_return"]:0.##}, random {t.Metrics["random_return"]:0.##})",
                    "language" => $"bits/byte {t.Metrics.GetValueOrDefault("bits_per_byte"):0.###}",
                    "vision-language" => $"exact match {t.Metrics.GetValueOrDefault("exact_match"):0.###}, token acc. {t.Metrics.GetValueOrDefault("token_accuracy"):0.###}",
                    _ => t.Metrics.TryGetValue("rmse", out var rmse) ? $"RMSE {rmse:0.###} (bias baseline {t.Metrics["user_item_bias_rmse"]:0.###})" : $"MSE at k=2d {t.Metrics.GetValueOrDefault("mse"):0.####}",
                };
                table.AddRow(Markup.Escape(t.Task), t.Family, $"{t.Metrics["loss"]:0.###}", Markup.Escape(main), t.NormalizedScore is { } s ? $"{s:0.#}" : "-");
            }
            AnsiConsole.Write(table);
            if (result.MeanNormalizedScore is { } mean)
                AnsiConsole.MarkupLine($"mean normalized score {mean:0.#}; {result.TasksAtOrAbove50} task(s) >= 50, {result.TasksAtOrAbove80} >= 80");
            AnsiConsole.MarkupLine($"report: {Markup.Escape(result.MarkdownPath)}");
            return ExitCodes.Ok;
        }));
        return command;
    }
}
