using System.Diagnostics;
using Generalist.Service.Api.V1;
using Generalist.Service.Tests;
using Generalist.Tokenizers;
using Grpc.Core;
using CliChild = Generalist.Service.Tests.Cli;
using Xunit.Abstractions;
using Generalist.Shards;
using Generalist.RunFormat;
using Generalist.RunFormat.Safetensors;

namespace Generalist.Reliability.Tests;

/// <summary>
/// Issue 18, scenario 15: a corpus of bad inputs across the CLI, config files, gRPC requests and
/// data files. Each must be refused with the right exit code or status code, in one line that
/// names the field or path, with no .NET type name ("System.") and no "Exception" in it: what a
/// user reads is what they wrote wrong, not how the program noticed.
/// </summary>
public class Scenario15BadInputCorpus(ITestOutputHelper output)
{
    private static void AssertOneCleanLine(string text, string expected, string what)
    {
        var lines = text.Split('\n', StringSplitOptions.RemoveEmptyEntries);
        Assert.True(lines.Length == 1, $"{what}: {lines.Length} lines: {text}");
        Assert.DoesNotContain("System.", text);
        Assert.DoesNotContain("Exception", text);
        Assert.DoesNotContain("   at ", text);
        Assert.True(text.Contains(expected, StringComparison.Ordinal), $"{what}: '{expected}' not in: {text}");
    }

    /// <summary>The files the CLI and config cases point at, written once per run.</summary>
    private sealed class Inputs : IDisposable
    {
        public string Dir { get; } = Directory.CreateTempSubdirectory("gcorpus").FullName;
        public string this[string name] => Path.Combine(Dir, name);

        public Inputs()
        {
            File.WriteAllText(this["string-steps.json"], """{"steps": "50"}""");
            File.WriteAllText(this["unknown.json"], """{"bogus": 1}""");
            File.WriteAllText(this["unknown-nested.json"], """{"optimizer": {"lr": 1}}""");
            File.WriteAllBytes(this["utf8.json"], [.. "{\"tasks\":[{\"name\":\""u8, 0xFF, 0xFE, .. "\"}]}"u8]);
            File.WriteAllText(this["syntax.json"], "{\n  \"steps\": 5,\n  \"batch_size\": x\n}");
            File.WriteAllText(this["duplicate.json"], """{"steps": 5, "steps": 6}""");
            File.WriteAllText(this["huge-context.json"], """{"preset": "base", "context_length": 65536}""");
            File.WriteAllText(this["preset.json"], """{"preset": "nope"}""");
            File.WriteAllText(this["task.json"], """{"tasks": [{"name": "nope"}]}""");
            File.WriteAllText(this["weight.json"], """{"tasks": [{"name": "cartpole", "weight": -1}]}""");
            File.WriteAllText(this["null-section.json"], """{"optimizer": null}""");
            File.WriteAllText(this["fraction.json"], """{"batch_size": 2.5}""");
            File.WriteAllText(this["huge-number.json"], """{"steps": 1e400}""");
            File.WriteAllText(this["a-file"], "not a directory");
            File.WriteAllText(this["episode-bad.json"], "{ not json");
            File.WriteAllText(this["episode-notask.json"], """{"timesteps": 5}""");
            using (var big = File.Create(this["episode-big.json"])) big.SetLength(9L << 20);
        }

        public void Dispose()
        {
            try { Directory.Delete(Dir, true); } catch (IOException) { }
        }
    }

    private static (string Args, string Expected)[] CliCases(Inputs i) =>
    [
        ("train --steps abc", "'--steps' as a whole number in [1, 10000000]"),
        ("train --steps 0", "steps: must be in [1, 10000000]"),
        ("train --batch-size 99999", "batch_size: must be in [1, 4096]"),
        ("train --preset nope", "preset: unknown model preset 'nope'"),
        ("train --tasks nope", "unknown task 'nope'"),
        ("train --precision fp16", "precision"),
        ("train --seed x", "'--seed' as a whole number"),
        ("train --name ../escape", "name"),
        ("train --frobnicate", "'--frobnicate'"),
        ($"train --config {i["missing.json"]}", "missing.json"),
        ($"train --config {i["string-steps.json"]}", "steps: must be a whole number in [1, 10000000]"),
        ($"train --config {i["unknown.json"]}", "unknown field 'bogus'"),
        ($"train --config {i["unknown-nested.json"]}", "unknown field 'optimizer.lr'"),
        ($"train --config {i["utf8.json"]}", "not valid UTF-8"),
        ($"train --config {i["syntax.json"]}", "line 3"),
        ($"train --config {i["huge-context.json"]}", "context_length: preset base with context_length 65536"),
        ($"train --config {i["preset.json"]}", "preset: unknown model preset"),
        ($"train --config {i["task.json"]}", "tasks[0].name: unknown task 'nope'"),
        ($"train --out {i["a-file"]} --steps 1", "--out:"),
        ($"train --out {i["a-file"]}/sub --steps 1", "is a file"),
        ($"config check {i["duplicate.json"]}", "steps is given twice"),
        ($"config check {i["weight.json"]}", "tasks[0].weight"),
        ($"config check {i["fraction.json"]}", "batch_size: must be a whole number"),
        ($"serve --data-root {i["a-file"]} --port 0 --metrics-port 0", "Service:DataRoot (--data-root)"),
        ("serve --port 70000", "Service:Port (--port)"),
        ("serve --bind not-an-ip --port 0 --metrics-port 0", "Service:BindAddress (--bind)"),
        ("serve --max-concurrent-runs 0 --port 0 --metrics-port 0", "Service:MaxConcurrentRuns"),
        ($"tokenize --input {i["missing-episode.json"]}", "--input: file not found"),
        ($"tokenize --input {i["episode-big.json"]}", "an episode file is at most 8 MiB"),
        ($"tokenize --input {i["episode-bad.json"]}", "not valid JSON"),
        ($"tokenize --input {i["episode-notask.json"]} --patch-size 0", "--patch-size must be in [1, 256]"),
        ("eval --checkpoint /nonexistent/step-1", "/nonexistent/step-1"),
    ];

    [Fact]
    [Trait("Category", "Slow")] // 32 processes of the real CLI: about 20 s on 2 cores
    public async Task Every_bad_command_line_and_config_file_exits_2_with_one_clean_line()
    {
        using var inputs = new Inputs();
        var cases = CliCases(inputs);
        var clock = Stopwatch.StartNew();
        var results = new List<(string Args, string Expected, int Code, string Stdout, string Stderr)>();
        foreach (var chunk in cases.Chunk(4))
            results.AddRange(await Task.WhenAll(chunk.Select(c => Task.Run(() =>
            {
                var (code, stdout, stderr) = CliChild.Run(null, [.. c.Args.Split(' ')]);
                return (c.Args, c.Expected, code, stdout, stderr);
            }))));
        output.WriteLine($"{cases.Length} command lines in {clock.Elapsed.TotalSeconds:F1} s");
        foreach (var r in results)
        {
            output.WriteLine($"generalist {r.Args} -> {r.Code}: {r.Stderr.Trim()}");
            Assert.True(r.Code == 2, $"generalist {r.Args}: exit {r.Code}: {r.Stderr}");
            Assert.Equal("", r.Stdout.Trim());
            AssertOneCleanLine(r.Stderr, r.Expected, "generalist " + r.Args);
        }
    }

    [Fact]
    public void Every_bad_config_file_is_one_clean_line_naming_the_field()
    {
        using var i = new Inputs();
        (string File, string Expected)[] cases =
        [
            ("string-steps.json", "steps: must be a whole number in [1, 10000000]"),
            ("unknown.json", "unknown field 'bogus'"),
            ("unknown-nested.json", "known fields of optimizer: learning_rate"),
            ("utf8.json", "not valid UTF-8 (at byte"),
            ("syntax.json", "invalid JSON at batch_size (line 3, column 17)"),
            ("duplicate.json", "steps is given twice"),
            ("null-section.json", "optimizer: must be an object, not null"),
            ("fraction.json", "batch_size: must be a whole number in [1, 4096]"),
            ("huge-number.json", "steps: must be a whole number"),
            ("weight.json", "tasks[0].weight: must be a finite number > 0"),
            ("missing.json", "config file not found"),
        ];
        foreach (var (file, expected) in cases)
        {
            var e = Assert.Throws<ConfigException>(() => RunConfig.Load(i[file]));
            output.WriteLine($"{file}: {e.Message}");
            AssertOneCleanLine(e.Message, expected, file);
        }
        // The checks `train` makes beyond the fields, through the one path runs create uses too.
        foreach (var (file, expected) in new[] { ("huge-context.json", "needs at least"), ("preset.json", "unknown model preset"), ("task.json", "unknown task 'nope'") })
        {
            var errors = RunConfig.Load(i[file]).ValidateForTraining();
            var error = Assert.Single(errors);
            output.WriteLine($"{file}: {error.Field}: {error.Message}");
            AssertOneCleanLine(error.Message, expected, file);
        }
    }

    [Fact]
    public async Task Every_bad_gRPC_request_gets_its_status_code_and_one_clean_line()
    {
        await using var svc = await TestService.StartAsync();
        var runs = svc.Runs();
        var evaluations = svc.Evaluations();
        var checkpoints = svc.Checkpoints();
        (string What, StatusCode Code, string Expected, Func<Task> Call)[] cases =
        [
            ("steps as a string", StatusCode.InvalidArgument, "steps: must be a whole number", () => runs.CreateRunAsync(new CreateRunRequest { ConfigJson = """{"steps": "50"}""" }).ResponseAsync),
            ("unknown field", StatusCode.InvalidArgument, "unknown field 'bogus'", () => runs.CreateRunAsync(new CreateRunRequest { ConfigJson = """{"bogus": 1}""" }).ResponseAsync),
            ("unknown preset", StatusCode.InvalidArgument, "unknown model preset 'nope'", () => runs.CreateRunAsync(new CreateRunRequest { Name = "p", Preset = "nope" }).ResponseAsync),
            ("unknown task", StatusCode.InvalidArgument, "unknown task 'nope'", () => runs.CreateRunAsync(new CreateRunRequest { Name = "t", Tasks = { "nope" } }).ResponseAsync),
            ("context beyond memory", StatusCode.InvalidArgument, "needs at least", () => runs.CreateRunAsync(new CreateRunRequest { ConfigJson = """{"name": "c", "preset": "base", "context_length": 65536}""" }).ResponseAsync),
            ("negative steps", StatusCode.InvalidArgument, "steps", () => runs.CreateRunAsync(new CreateRunRequest { Name = "n", Steps = -1 }).ResponseAsync),
            ("traversing name", StatusCode.InvalidArgument, "name", () => runs.CreateRunAsync(new CreateRunRequest { Name = "../x" }).ResponseAsync),
            ("syntax", StatusCode.InvalidArgument, "invalid JSON", () => runs.CreateRunAsync(new CreateRunRequest { ConfigJson = "{" }).ResponseAsync),
            ("page size", StatusCode.InvalidArgument, "page_size", () => runs.ListRunsAsync(new ListRunsRequest { PageSize = -1 }).ResponseAsync),
            ("unknown run", StatusCode.NotFound, "run 'ghost' not found", () => runs.GetRunAsync(new GetRunRequest { Name = "ghost" }).ResponseAsync),
            ("cancel unknown", StatusCode.NotFound, "ghost", () => runs.CancelRunAsync(new CancelRunRequest { Name = "ghost" }).ResponseAsync),
            ("resume unknown", StatusCode.NotFound, "ghost", () => runs.ResumeRunAsync(new ResumeRunRequest { Name = "ghost" }).ResponseAsync),
            ("evaluation of unknown run", StatusCode.NotFound, "ghost", () => evaluations.CreateEvaluationAsync(new CreateEvaluationRequest { Run = "ghost" }).ResponseAsync),
            ("checkpoints of unknown run", StatusCode.NotFound, "ghost", () => checkpoints.ListCheckpointsAsync(new ListCheckpointsRequest { Run = "ghost" }).ResponseAsync),
        ];
        foreach (var (what, code, expected, call) in cases)
        {
            var e = await Assert.ThrowsAsync<RpcException>(call);
            output.WriteLine($"{what}: {e.StatusCode}: {e.Status.Detail}");
            Assert.True(e.StatusCode == code, $"{what}: {e.StatusCode}: {e.Status.Detail}");
            AssertOneCleanLine(e.Status.Detail, expected, what);
        }
        Assert.Equal(0, svc.Service<Generalist.Service.Registry.RunRegistry>().CountRuns());
    }

    [Fact]
    public void Every_bad_data_file_is_one_clean_line_naming_the_file()
    {
        using var i = new Inputs();
        var cases = new List<(string What, Action Read, string Expected)>();
        File.WriteAllBytes(i["short.safetensors"], [1, 2, 3]);
        cases.Add(("safetensors of 3 bytes", () => SafetensorsFile.Open(i["short.safetensors"]), "short.safetensors"));
        File.WriteAllBytes(i["header.safetensors"], [.. BitConverter.GetBytes(1L << 40), .. "{}"u8]);
        cases.Add(("safetensors header of 1 TiB", () => SafetensorsFile.Open(i["header.safetensors"]), "header.safetensors"));
        File.WriteAllBytes(i["garbage.shard"], Enumerable.Repeat((byte)7, 256).ToArray());
        cases.Add(("shard of garbage", () => new ShardReader(i["garbage.shard"]).Dispose(), "garbage.shard"));
        cases.Add(("episode that is not JSON", () => EpisodeJson.Read(i["episode-bad.json"]), "episode-bad.json"));
        cases.Add(("episode of 9 MiB", () => EpisodeJson.Read(i["episode-big.json"]), "at most 8 MiB"));
        cases.Add(("image that is not one", () => ImageDecoder.Decode([1, 2, 3, 4], "bad.png"), "bad.png"));
        using (var bitmap = new SkiaSharp.SKBitmap(ImageDecoder.MaxSide + 1, 1))
        using (var png = bitmap.Encode(SkiaSharp.SKEncodedImageFormat.Png, 100))
            File.WriteAllBytes(i["wide.png"], png.ToArray());
        cases.Add(("image wider than the cap", () => ImageDecoder.Decode(i["wide.png"]), "4097x1 pixels is larger than the 4096x4096"));
        foreach (var (what, read, expected) in cases)
        {
            var e = Assert.ThrowsAny<Exception>(read);
            output.WriteLine($"{what}: {e.Message}");
            Assert.True(e is InvalidDataException or ArgumentException, $"{what}: {e.GetType().Name}");
            AssertOneCleanLine(e.Message, expected, what);
        }
    }
}
