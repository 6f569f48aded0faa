using System.CommandLine;
using System.Text.Json;
using System.Text.Json.Nodes;
using Generalist.Cli.Commands.Config;
using Generalist.Datasets;
using Generalist.Model;
using Generalist.Studies;
using Generalist.RunFormat;

namespace Generalist.Cli.Commands;

/// <summary>
/// `generalist config show [--study] [--preset P] [--tasks T]`: a complete run (or study) config with
/// every field's description, rule and default as comments, from the field lists the validators use
/// (<see cref="RunConfigFields"/>, <see cref="StudyConfigFields"/>); `generalist config check FILE`
/// validates a file as `train --config` or `study ... --config` would.
/// </summary>
public static class ConfigCommand
{
    public static Command Create() => new("config", "Show a complete commented default config, or check a config file, for runs and studies.")
    {
        Show(), Check(),
    };

    private static Command Show()
    {
        var study = new Option<bool>("--study") { Description = "A study config (transfer, scaling, ablation, icl) instead of a run config." };
        var preset = new Option<string?>("--preset") { Description = $"Model preset of the shown config: {string.Join(", ", ModelPresets.Names)}." };
        var tasks = new Option<string?>("--tasks") { Description = $"Task mixture of the shown config, {TaskList.Syntax}. Tasks: {TaskList.Known}." };
        var command = new Command("show",
            "Print a complete config as JSON with comments: every field, what it does, its allowed range and its default. " +
            "Save it (`generalist config show > run.json`), edit it, then `generalist train --config run.json`.")
        {
            study, preset, tasks,
        };
        command.SetAction(parse => CommandErrors.Guard(() =>
        {
            var run = new RunConfig();
            if (parse.GetValue(preset) is { } p) run = run with { Preset = CheckedPreset(p, "--preset") };
            if (parse.GetValue(tasks) is { } t) run = run with { Tasks = TaskList.Parse(t) };
            Console.Out.Write(parse.GetValue(study) ? StudyText(run) : RunText(run));
            return ExitCodes.Ok;
        }));
        return command;
    }

    private static Command Check()
    {
        var file = new Argument<string>("file") { Description = "A run config or a study config (one with a \"base\" run config) in JSON." };
        var json = CliApp.JsonOption();
        var command = new Command("check", "Validate a run or study config file: every problem's field and allowed range, exit code 2 if invalid.") { file, json };
        command.SetAction(parse => CommandErrors.Guard(() =>
        {
            var path = parse.GetValue(file)!;
            var result = IsStudy(path) ? CheckStudy(path) : CheckRun(path);
            if (parse.GetValue(json)) CliApp.WriteJson(result);
            else Console.Out.WriteLine($"{path}: a valid {result.Kind} config ({result.Summary})");
            return ExitCodes.Ok;
        }));
        return command;
    }

    /// <summary>The commented run config text for <paramref name="run"/> (the built-in defaults for every other field).</summary>
    internal static string RunText(RunConfig run) =>
        new CommentedJson(RunConfigFields.Docs.ToDictionary(d => d.Path), RunNode(new RunConfig()), RunNotes(run, ""))
            .Write(RunNode(run),
            [
                "Generalist run config: `generalist train --config FILE` (or `generalist runs create --config FILE`).",
                "Comments are allowed; a field left out takes its default; unknown fields are errors. Check a file with `generalist config check FILE`.",
            ]);

    internal static string StudyText(RunConfig run) =>
        new CommentedJson(StudyDocs(), StudyNode(new RunConfig()), RunNotes(run, "base."))
            .Write(StudyNode(run),
            [
                "Generalist study config: `generalist study transfer|scaling|ablation|icl --config FILE`.",
                "\"base\" is a full run config (the fields of `generalist config show`); transfer needs transfer.families covering base.tasks.",
                "Comments are allowed; a field left out takes its default; unknown fields are errors. Check a file with `generalist config check FILE`.",
            ]);

    /// <summary>The config as JSON in the field list's order, fields that are null by default included (so every field is shown).</summary>
    private static JsonObject RunNode(RunConfig run)
    {
        var written = JsonNode.Parse(run.ToJson())!.AsObject();
        var node = new JsonObject();
        foreach (var top in RunConfigFields.Docs.Select(d => d.Path.Split('.', '[')[0]).Distinct())
            node[top] = written[top]?.DeepClone();
        return node;
    }

    private static JsonObject StudyNode(RunConfig run)
    {
        var node = JsonSerializer.SerializeToNode(new StudyConfig())!.AsObject();
        node["base"] = RunNode(run);
        return node;
    }

    private static Dictionary<string, FieldDoc> StudyDocs()
    {
        var docs = StudyConfigFields.Docs.ToDictionary(d => d.Path);
        foreach (var d in RunConfigFields.Docs) docs["base." + d.Path] = d with { Path = "base." + d.Path };
        return docs;
    }

    /// <summary>Lists that change with the build (presets, tasks) and what the preset implies, beside the fields they concern.</summary>
    private static Dictionary<string, string> RunNotes(RunConfig run, string prefix)
    {
        var shape = ModelPresets.Get(run.Preset);
        return new()
        {
            [prefix + "preset"] = $"Presets: {string.Join(", ", ModelPresets.Names)}.",
            [prefix + "tasks"] = $"Tasks: {TaskList.Known}.",
            [prefix + "context_length"] = $"The preset {run.Preset} has {shape.ContextLength}.",
        };
    }

    private static string CheckedPreset(string name, string flag)
    {
        try
        {
            return ModelPresets.Find(name).Name;
        }
        catch (ArgumentException e)
        {
            throw new CliInputException($"{flag}: {e.Message}");
        }
    }

    private static bool IsStudy(string path)
    {
        if (!File.Exists(path)) throw new CliInputException($"config file not found: {path}");
        try
        {
            using var doc = JsonDocument.Parse(File.ReadAllText(path), new JsonDocumentOptions { CommentHandling = JsonCommentHandling.Skip });
            return doc.RootElement.ValueKind == JsonValueKind.Object && doc.RootElement.TryGetProperty("base", out _);
        }
        catch (JsonException)
        {
            return false; // the run config reader reports the syntax error with its position
        }
    }

    /// <summary>What `train --config` checks before training: the fields, the preset and the task names.</summary>
    private static CheckResult CheckRun(string path)
    {
        var run = RunConfig.Load(path);
        var errors = run.ValidateForTraining();
        if (errors.Count > 0) throw new ConfigException(errors[0].Field, $"{path}: {errors[0].Field}: {errors[0].Message}");
        var mixture = string.Join(", ", TaskList.ToRequest(run.Tasks));
        return new CheckResult(Path.GetFullPath(path), "run", run.Name, $"preset {run.Preset}, tasks {mixture}, {run.Steps} steps; trains into checkpoints/{run.Name}");
    }

    private static CheckResult CheckStudy(string path)
    {
        var study = StudyConfig.Load(path);
        study.BaseRun.ResolveModel();
        return new CheckResult(Path.GetFullPath(path), "study", study.Name,
            $"base: preset {study.BaseRun.Preset}, {study.BaseRun.Tasks.Count} tasks, {study.BaseRun.Steps} steps; writes checkpoints/studies/{study.Name}");
    }

    private sealed record CheckResult(string File, string Kind, string Name, string Summary)
    {
        public bool Valid => true;
    }
}
