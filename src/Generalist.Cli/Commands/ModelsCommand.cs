using System.CommandLine;
using System.Globalization;
using Generalist.Model;
using Spectre.Console;

namespace Generalist.Cli.Commands;

/// <summary>`generalist models [--preset NAME]`: the model presets with their parameter counts and FLOPs per token.</summary>
public static class ModelsCommand
{
    /// <summary>One preset as printed (and written as JSON); Config: the whole shape, for builders outside .NET (bench/peer/).</summary>
    public sealed record PresetDescription(
        string Name, string Purpose, int Layers, int ModelDim, int Heads, int MlpDim, int ContextLength,
        int VocabSize, bool TieEmbeddings, ParameterCounts Parameters, long NonEmbeddingParameters,
        long FlopParameters, long TotalParameters, double FlopsPerToken, System.Text.Json.JsonElement Config);

    public static Command Create()
    {
        var json = CliApp.JsonOption();
        var preset = new Option<string?>("--preset") { Description = $"Describe one preset: {string.Join(", ", ModelPresets.Names)}." };
        var command = new Command("models", "List the model presets with parameter counts (non-embedding N, FLOP N, total) and training FLOPs per token.") { json, preset };
        command.SetAction(parse =>
        {
            var name = parse.GetValue(preset);
            IReadOnlyList<ModelPreset> presets;
            try
            {
                presets = name is null ? ModelPresets.Presets : [ModelPresets.Find(name)];
            }
            catch (ArgumentException e)
            {
                Console.Error.WriteLine($"error: --preset: {e.Message}");
                return ExitCodes.InvalidInput;
            }
            var described = presets.Select(Describe).ToList();
            if (parse.GetValue(json))
            {
                CliApp.WriteJson(described);
                return ExitCodes.Ok;
            }
            var table = new Table().AddColumns("preset", "L", "d", "heads", "ctx", "non-emb", "FLOP N", "total", "MFLOP/tok");
            foreach (var d in described)
                table.AddRow(d.Name, Text(d.Layers), Text(d.ModelDim), Text(d.Heads), Text(d.ContextLength),
                    ParameterCounts.Millions(d.NonEmbeddingParameters), ParameterCounts.Millions(d.FlopParameters),
                    ParameterCounts.Millions(d.TotalParameters), (d.FlopsPerToken / 1e6).ToString("0.0", CultureInfo.InvariantCulture));
            Generalist.Cli.Output.CliTable.Write(table);
            if (name is not null) Console.WriteLine($"{described[0].Name}: {described[0].Purpose}\n{described[0].Parameters}");
            Console.WriteLine("non-embedding = blocks + final norm; FLOP N adds the output head (6N + 12*L*T*d per training token).");
            return ExitCodes.Ok;
        });
        return command;
    }

    public static PresetDescription Describe(ModelPreset preset)
    {
        var c = preset.Config;
        var counts = ParameterCounts.For(c);
        return new PresetDescription(preset.Name, preset.Purpose, c.Layers, c.ModelDim, c.Heads, c.MlpDim, c.ContextLength,
            c.VocabSize, c.TieEmbeddings, counts, counts.NonEmbedding, counts.FlopParameters, counts.Total,
            ParameterCounts.FlopsPerToken(c, c.ContextLength), ModelConfigJson.ToElement(c));
    }

    private static string Text(int value) => value.ToString(CultureInfo.InvariantCulture);
}
