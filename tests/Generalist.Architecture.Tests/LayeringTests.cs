namespace Generalist.Architecture.Tests;

/// <summary>
/// The rooms and the one way data flows between them (docs/ARCHITECTURE.md): a project may
/// reference only projects on a lower layer, so an upstream arrow (an environment importing the
/// tokenizers, the evaluator importing the trainer) or a cycle fails here, not in review.
/// DisableTransitiveProjectReferences (Directory.Build.props) makes every project list what it
/// uses, so the references read here are the real dependencies.
/// </summary>
public sealed class LayeringTests
{
    /// <summary>Layer of every product project; a new project must be placed here.</summary>
    public static readonly IReadOnlyDictionary<string, int> Layers = new Dictionary<string, int>
    {
        ["Generalist.Torch"] = 0,        // libtorch loading and the exports TorchSharp lacks
        ["Generalist.Episodes"] = 0,     // the episode format: what sources produce, tokenizers consume
        ["Generalist.Tokenizers"] = 1,   // text, image, discrete and continuous values -> tokens
        ["Generalist.Envs"] = 1,         // environments and scripted experts
        ["Generalist.Distributed"] = 1,  // MPI / NCCL collectives
        ["Generalist.Packing"] = 2,      // tokenized episodes -> rows and batches; the mixture loader
        ["Generalist.Shards"] = 2,       // episodes on disk
        ["Generalist.Datasets"] = 3,     // the task catalog, real data sets, expert trajectories, the package cache
        ["Generalist.Model"] = 3,        // the transformer
        ["Generalist.RunFormat"] = 4,    // run config, checkpoints, safetensors: what training writes and readers read
        ["Generalist.Training"] = 5,     // the trainer
        ["Generalist.Evaluation"] = 5,   // scores a checkpoint; reads runs, never trains
        ["Generalist.Studies"] = 6,      // transfer, scaling, ablation, in-context studies (they train)
        ["Generalist.Service"] = 7,      // gRPC service, registry, scheduler, telemetry
        ["Generalist.Cli"] = 8,          // the `generalist` command
    };

    private static readonly ProjectGraph Graph = ProjectGraph.Load();

    /// <summary>Test-side projects that test projects may reference: the shared helpers and the program the mpirun tests launch.</summary>
    private static readonly string[] TestSide = ["Generalist.TestSupport", "Generalist.Distributed.Harness"];

    private static bool IsTest(string project) => !Layers.ContainsKey(project);

    [Fact]
    public void Every_product_project_has_a_layer()
    {
        var unplaced = Graph.Paths.Keys
            .Where(p => !p.EndsWith(".Tests", StringComparison.Ordinal) && !TestSide.Contains(p) && !Layers.ContainsKey(p))
            .ToList();
        Assert.True(unplaced.Count == 0, $"projects without a layer in {nameof(LayeringTests)}.{nameof(Layers)}: {string.Join(", ", unplaced)}");
        Assert.All(Layers.Keys, p => Assert.True(Graph.Paths.ContainsKey(p), $"{p} is in the layer table but has no project file"));
    }

    [Fact]
    public void Product_projects_reference_only_lower_layers()
    {
        var upstream = (
            from p in Layers.Keys
            from r in Graph.References[p]
            where IsTest(r) || Layers[r] >= Layers[p]
            select IsTest(r) ? $"{p} -> {r} (a test project)" : $"{p} (layer {Layers[p]}) -> {r} (layer {Layers[r]})").ToList();
        Assert.True(upstream.Count == 0, "references that do not point down the layers:\n" + string.Join("\n", upstream));
    }

    [Fact]
    public void Tests_reference_product_projects_and_their_own_harness_only()
    {
        var bad = (
            from p in Graph.Paths.Keys.Where(IsTest)
            from r in Graph.References[p]
            where IsTest(r) && !TestSide.Contains(r)
            select $"{p} -> {r}").ToList();
        Assert.True(bad.Count == 0, "test projects referencing test projects (shared helpers belong in Generalist.TestSupport):\n" + string.Join("\n", bad));
    }

    [Fact]
    public void The_graph_has_no_cycle() => Assert.Null(Graph.FindCycle());

    [Fact]
    public void Transitive_project_references_are_off()
    {
        var props = File.ReadAllText(Path.Combine(Graph.Root, "Directory.Build.props"));
        Assert.Contains("<DisableTransitiveProjectReferences>true</DisableTransitiveProjectReferences>", props);
    }

    [Theory]
    [InlineData("Generalist.Envs", "Generalist.Tokenizers")]
    [InlineData("Generalist.Evaluation", "Generalist.Training")]
    [InlineData("Generalist.Episodes", "Generalist.Tokenizers")]
    [InlineData("Generalist.RunFormat", "Generalist.Training")]
    public void The_rooms_that_only_read_do_not_import_upstream(string project, string upstream)
    {
        Assert.DoesNotContain(upstream, Graph.References[project]);
        Assert.DoesNotContain(upstream + ".", Graph.CodeOf(project).Replace(upstream + ".Tests", ""));
    }
}
