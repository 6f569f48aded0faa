using System.CommandLine;
using System.Globalization;
using Generalist.Tokenizers;
using Spectre.Console;
using Generalist.Episodes;

namespace Generalist.Cli.Commands;

/// <summary>`generalist tokenize --input EPISODE.json [--json]`: shows an episode as the model sees it.</summary>
public static class TokenizeCommand
{
    public static Command Create()
    {
        var json = CliApp.JsonOption();
        var input = new Option<string>("--input") { Description = "Episode JSON: {\"task\", \"timesteps\": [{\"observation\": {text, image, discrete, continuous}, \"action\": {discrete|continuous}}]}; image paths are relative to it. At most 8 MiB; images at most 4096x4096 pixels and 64 MiB.", Required = true };
        var patchSize = new Option<int>("--patch-size") { Description = "Image patch side P in pixels [1, 256].", DefaultValueFactory = _ => 16 };
        var contextLength = new Option<int>("--context-length") { Description = "Context length L; longer timesteps are cut into L-sized pieces [4, 1048576].", DefaultValueFactory = _ => 1024 };
        var command = new Command("tokenize", "Tokenize an episode into the single sequence format and show every position.") { input, json, patchSize, contextLength };
        command.SetAction(parse =>
        {
            // Input errors are answered here: the command-line library would otherwise print
            // them as unhandled exceptions with exit code 1.
            try
            {
                return Run(parse, input, json, patchSize, contextLength);
            }
            catch (Exception e) when (e is CliInputException or ArgumentException or FileNotFoundException or InvalidDataException)
            {
                Console.Error.WriteLine($"error: {e.Message.ReplaceLineEndings(" ")}");
                return ExitCodes.InvalidInput;
            }
        });
        return command;
    }

    private static int Run(ParseResult parse, Option<string> input, Option<bool> json, Option<int> patchSize, Option<int> contextLength)
    {
        var p = parse.GetValue(patchSize);
        if (p is < 1 or > 256) throw new CliInputException($"--patch-size must be in [1, 256] (got {p})");
        var l = parse.GetValue(contextLength);
        if (l is < 4 or > 1 << 20) throw new CliInputException($"--context-length must be in [4, 1048576] (got {l})");
        var path = parse.GetValue(input)!;
        var episode = EpisodeJson.Read(path);
        var builder = new SequenceBuilder(VocabularyLayout.Default, l, p);
        TokenizeReport report;
        try
        {
            report = TokenizeReport.Create(episode, builder);
        }
        catch (ArgumentException e)
        {
            throw new CliInputException($"{path}: {e.Message}");
        }
        if (parse.GetValue(json))
        {
            CliApp.WriteJson(report);
            return ExitCodes.Ok;
        }
        WriteTable(report);
        return ExitCodes.Ok;
    }

    private static void WriteTable(TokenizeReport r)
    {
        AnsiConsole.MarkupLine(Markup.Escape(
            $"task {r.Task}: {r.Timesteps} timesteps -> {r.Length} positions ({r.PatchCount} image patches of {r.PatchSize}x{r.PatchSize})"));
        AnsiConsole.MarkupLine(Markup.Escape(
            $"vocabulary: text [0, {r.TextVocabSize}), continuous [{r.ContinuousOffset}, {r.DiscreteOffset}), discrete [{r.DiscreteOffset}, {r.Separator}), separator {r.Separator}, end of episode {r.EndOfEpisode}, pad {r.Pad}"));
        var table = new Table().AddColumn("#").AddColumn("step").AddColumn("kind").AddColumn("token").AddColumn("pos").AddColumn("loss").AddColumn("value");
        foreach (var e in r.Positions)
        {
            var value = e.Value switch
            {
                null when e.PatchRow is { } row => $"patch row {row}, col {e.PatchCol}",
                null => "",
                float f => f.ToString("G6", CultureInfo.InvariantCulture),
                string s => s,
                var o => Convert.ToString(o, CultureInfo.InvariantCulture) ?? "",
            };
            table.AddRow(e.Index.ToString(CultureInfo.InvariantCulture), e.Timestep.ToString(CultureInfo.InvariantCulture), e.Kind,
                e.Token?.ToString(CultureInfo.InvariantCulture) ?? "-", e.Position.ToString(CultureInfo.InvariantCulture), e.Loss ? "yes" : "",
                Markup.Escape(value));
        }
        Generalist.Cli.Output.CliTable.Write(table);
    }
}
