using Generalist.Datasets;
using Generalist.Envs;
using Generalist.Model;
using Generalist.Episodes;
using Generalist.RunFormat;

namespace Generalist.Evaluation.Tests;

/// <summary>
/// The evaluator end to end on a small freshly initialized model, with in-memory task data and the
/// real cartpole environment, expert and random policy. The catalog's real data sets are
/// exercised by the Slow test and the demonstration in the README.
/// </summary>
public class EvaluatorTests
{
    private static readonly ModelConfig Shape = new ModelConfig { Layers = 2, ModelDim = 32, Heads = 2, ContextLength = 64, PatchSize = 4 }.Validate();

    private static RunConfig Run(params string[] tasks) => new() { Name = "unit", Tasks = tasks.Select(t => new TaskWeight(t)).ToList(), Seed = 0, EpisodesPerTask = 4, MinTimestepsPerTask = 0 };

    private static TaskData Data(string name, RunConfig _)
    {
        var random = new Random(name.Length);
        Episode Text(int i) => new("text", [new Timestep(new Observation(Text: $"Call me Ishmael. Some years ago, number {i}, never mind how long precisely."))]);
        Episode Caption(int i)
        {
            var pixels = new byte[8 * 8];
            random.NextBytes(pixels);
            return new Episode("mnist", [new Timestep(new Observation(Image: new ImageData(8, 8, 1, pixels))), new Timestep(new Observation(Text: $"a handwritten digit {i % 10}"))]);
        }
        Episode Regression(int i)
        {
            var w = new[] { random.NextDouble() - 0.5, random.NextDouble() - 0.5 };
            return new Episode("icl-regression", Enumerable.Range(0, 5).Select(_ =>
            {
                var x = new[] { (float)(random.NextDouble() * 2 - 1), (float)(random.NextDouble() * 2 - 1) };
                return new Timestep(new Observation(Continuous: x), ActionValue.OfContinuous((float)(x[0] * w[0] + x[1] * w[1])));
            }).ToList());
        }
        Episode Ratings(int i) => new("movielens", Enumerable.Range(0, 6).Select(k =>
            new Timestep(new Observation(Discrete: [k % 3, 5], Continuous: [0.5f]), ActionValue.OfDiscrete((i + k) % 10))).ToList());
        Episode Cartpole(int i) => Rollouts.Collect(EnvRegistry.Create("cartpole"), EnvRegistry.Expert("cartpole"), 1, 5_000 + i, "cartpole")[0];
        Func<int, Episode> make = name switch
        {
            "text" => Text, "mnist" => Caption, "icl-regression" => Regression, "movielens" => Ratings, "cartpole" => Cartpole,
            _ => throw new ArgumentException(name),
        };
        var family = TaskCatalog.Describe(name).Family;
        return new TaskData(name, family, new InMemoryEpisodeSource(name, family, Enumerable.Range(0, 12).Select(make).ToList()),
            new InMemoryEpisodeSource(name, family, Enumerable.Range(100, 6).Select(make).ToList()), family == TaskFamily.Control ? name : null);
    }

    private static Evaluator Create(RunConfig run, int rolloutBatch = 4) => new(new EvaluatorOptions
    {
        LoadCheckpoint = (path, _) => new LoadedCheckpoint(new GeneralistModel(Shape, seed: 9), run, path),
        LoadTask = Data,
        CreateEnvironment = (name, _) => EnvRegistry.Create(name),
        CreateExpert = EnvRegistry.Expert,
        RolloutBatch = rolloutBatch,
    });

    [Fact]
    public async Task DefaultSuiteScoresEveryFamilyWritesTheReportAndRepeatsExactly()
    {
        var dir = Directory.CreateTempSubdirectory("eval-").FullName;
        try
        {
            var run = Run("cartpole", "text", "mnist", "icl-regression", "movielens");
            var request = new EvaluationRequest(dir, "default", Episodes: 3, Seed: 1_000_003);
            var result = await Create(run).EvaluateAsync(request, null, CancellationToken.None);
            var byTask = result.Tasks.ToDictionary(t => t.Task);
            Assert.Equal(["cartpole", "text", "mnist", "icl-regression", "movielens"], result.Tasks.Select(t => t.Task));
            var cart = byTask["cartpole"];
            Assert.Equal(100 * (cart.Metrics["return"] - cart.Metrics["random_return"]) / (cart.Metrics["expert_return"] - cart.Metrics["random_return"]), cart.NormalizedScore!.Value, 9);
            Assert.True(cart.Metrics["expert_return"] > 400, $"expert {cart.Metrics["expert_return"]}");
            Assert.Equal(cart.NormalizedScore, result.MeanNormalizedScore);
            Assert.InRange(byTask["text"].Metrics["bits_per_byte"], 0.5, 50);
            Assert.InRange(byTask["mnist"].Metrics["exact_match"], 0, 1);
            Assert.Contains("mse_k4", byTask["icl-regression"].Metrics.Keys);
            Assert.True(byTask["icl-regression"].Metrics["least_squares_mse_k4"] < 1e-10);
            Assert.Contains("user_item_bias_rmse", byTask["movielens"].Metrics.Keys);
            Assert.All(result.Tasks, t => Assert.True(double.IsFinite(t.Metrics["loss"])));
            var md = File.ReadAllText(result.MarkdownPath);
            Assert.Contains("Ganguli et al. 2022", md);
            Assert.Contains("evaluation-default-plots/icl_mse_vs_k_icl-regression.png", md);
            Assert.True(File.Exists(Path.Combine(dir, "evaluation-default-plots", "icl_mse_vs_k_icl-regression.png")));
            Assert.Contains("\"normalized_score\"", File.ReadAllText(result.JsonPath));
            // Diagnostics and intervals of the control task; cartpole has continuous observations and was trained on.
            Assert.InRange(cart.Metrics["expert_agreement"], 0, 1);
            Assert.InRange(cart.Metrics["unseen_bin_states"], 0, 1);
            Assert.Equal(cart.Metrics["visited_states"], cart.Metrics["episode_length"] * 3, 9);
            Assert.InRange(cart.NormalizedScore!.Value, cart.Metrics["normalized_score_ci_low"], cart.Metrics["normalized_score_ci_high"]);
            var control = result.Control!;
            Assert.Equal((3, 3, false, null, 1), (control.EpisodesRequested, control.EpisodesPerTask, control.EpisodesCapped, control.CapNote, control.Tasks));
            Assert.True(control.MeanInterval!.Contains(cart.NormalizedScore!.Value));
            Assert.NotNull(control.InterquartileMean);
            Assert.Equal("greedy (continuous actions: expected)", control.Decoding);
            Assert.Contains("IQM", md);
            Assert.Contains("expert agreement", md);
            Assert.DoesNotContain("Episodes capped", md);
            // The service stores results as snake_case JSON and reads them back: the summary must survive that.
            var options = new System.Text.Json.JsonSerializerOptions { PropertyNamingPolicy = System.Text.Json.JsonNamingPolicy.SnakeCaseLower };
            var stored = System.Text.Json.JsonSerializer.Deserialize<EvaluationResult>(System.Text.Json.JsonSerializer.Serialize(result, options), options)!;
            Assert.Equal(control, stored.Control);

            var again = await Create(run).EvaluateAsync(request, null, CancellationToken.None);
            Assert.Equal(result.Tasks.Select(t => t.Metrics.OrderBy(kv => kv.Key).ToList()), again.Tasks.Select(t => t.Metrics.OrderBy(kv => kv.Key).ToList()));
        }
        finally
        {
            Directory.Delete(dir, true);
        }
    }

    [Fact]
    public async Task ASuiteThatCapsTheEpisodesSaysSoInProgressMarkdownAndJson()
    {
        var dir = Directory.CreateTempSubdirectory("eval-").FullName;
        try
        {
            var notes = new List<string>();
            var progress = new SynchronousProgress(p => { if (p.Note is { } note) notes.Add(note); });
            var cap = Suites.Get("default").Budget.MaxEpisodes;
            var result = await Create(Run("cartpole"), rolloutBatch: 16).EvaluateAsync(new EvaluationRequest(dir, "default", Episodes: cap + 1), progress, CancellationToken.None);
            var control = result.Control!;
            Assert.Equal((cap + 1, cap, true), (control.EpisodesRequested, control.EpisodesPerTask, control.EpisodesCapped));
            var expected = $"suite 'default' caps control episodes at {cap}; {cap + 1} requested";
            Assert.Equal(expected, control.CapNote);
            Assert.Equal(cap, result.Tasks[0].Metrics["episodes"]);
            Assert.Equal(cap + 1, result.Tasks[0].Metrics["episodes_requested"]);
            Assert.NotEmpty(notes);
            Assert.All(notes, n => Assert.Equal(expected, n));
            Assert.Contains($"**Episodes capped**: {expected}", File.ReadAllText(result.MarkdownPath));
            Assert.Contains("\"episodes_capped\": true", File.ReadAllText(result.JsonPath));
        }
        finally
        {
            Directory.Delete(dir, true);
        }
    }

    /// <summary>Reports on the calling thread (Progress&lt;T&gt; posts to the thread pool, which would race the assertions).</summary>
    private sealed class SynchronousProgress(Action<EvaluationProgress> report) : IProgress<EvaluationProgress>
    {
        public void Report(EvaluationProgress value) => report(value);
    }

    [Fact]
    public async Task OnlyTrainedTasksOfTheSuiteUnlessTasksAreNamed()
    {
        var dir = Directory.CreateTempSubdirectory("eval-").FullName;
        try
        {
            var run = Run("text", "movielens");
            var language = await Create(run).EvaluateAsync(new EvaluationRequest(dir, "language"), null, CancellationToken.None);
            Assert.Equal(["text"], language.Tasks.Select(t => t.Task));
            var named = await Create(run).EvaluateAsync(new EvaluationRequest(dir, "all", Tasks: ["icl-regression"]), null, CancellationToken.None);
            Assert.Equal(["icl-regression"], named.Tasks.Select(t => t.Task));
        }
        finally
        {
            Directory.Delete(dir, true);
        }
    }

    [Fact]
    public async Task Each_suite_writes_its_own_report_and_a_suite_with_none_of_the_tasks_is_an_error_that_keeps_the_others()
    {
        var dir = Directory.CreateTempSubdirectory("eval-").FullName;
        try
        {
            var run = Run("text", "movielens");
            var language = await Create(run).EvaluateAsync(new EvaluationRequest(dir, "language"), null, CancellationToken.None);
            Assert.Equal(Path.Combine(dir, "evaluation-language.json"), language.JsonPath);
            Assert.Equal(Path.Combine(dir, "evaluation-language.md"), language.MarkdownPath);
            var inContext = await Create(run).EvaluateAsync(new EvaluationRequest(dir, "all"), null, CancellationToken.None);
            Assert.Equal(Path.Combine(dir, "evaluation-all.md"), inContext.MarkdownPath);
            var before = File.ReadAllBytes(language.JsonPath);

            // A checkpoint trained without control tasks, on the control suite: refused, naming its tasks.
            var e = await Assert.ThrowsAsync<ArgumentException>(() => Create(run).EvaluateAsync(new EvaluationRequest(dir, "control"), null, CancellationToken.None));
            Assert.StartsWith("suite: 'control' covers control tasks", e.Message);
            Assert.Contains("(text, movielens)", e.Message);
            Assert.False(File.Exists(Path.Combine(dir, "evaluation-control.json")));
            Assert.Equal(before, File.ReadAllBytes(language.JsonPath));
        }
        finally
        {
            Directory.Delete(dir, true);
        }
    }

    [Theory]
    [InlineData("nope", 5, 1_000_003L, "suite: unknown suite 'nope'")]
    [InlineData("default", 0, 1_000_003L, "episodes: must be in [1, 10000] (got 0)")]
    [InlineData("control", 5, 2L, "overlap the run's data seeds [0, 4)")]
    public async Task BadRequestsNameTheField(string suite, int episodes, long seed, string expected)
    {
        var dir = Directory.CreateTempSubdirectory("eval-").FullName;
        try
        {
            var e = await Assert.ThrowsAsync<ArgumentException>(() => Create(Run("cartpole")).EvaluateAsync(new EvaluationRequest(dir, suite, episodes, seed), null, CancellationToken.None));
            Assert.Contains(expected, e.Message);
        }
        finally
        {
            Directory.Delete(dir, true);
        }
    }
}
