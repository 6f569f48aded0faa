namespace Generalist.Architecture.Tests;

/// <summary>The checks above are only as good as the graph they read: it must see the real projects and references.</summary>
public sealed class ProjectGraphTests
{
    [Fact]
    public void Reads_the_known_references()
    {
        var graph = ProjectGraph.Load();
        Assert.Contains("Generalist.Episodes", graph.References["Generalist.Envs"]);
        Assert.Contains("Generalist.RunFormat", graph.References["Generalist.Evaluation"]);
        Assert.True(graph.Paths.Count >= 20, $"only {graph.Paths.Count} projects found under {graph.Root}");
    }

    [Fact]
    public void A_cycle_is_found_and_named()
    {
        var cycle = ProjectGraph.FindCycle(new Dictionary<string, IReadOnlyList<string>>
        {
            ["A"] = ["B"], ["B"] = ["C"], ["C"] = ["A"], ["D"] = ["A"],
        });
        Assert.Equal("A -> B -> C -> A", cycle);
        Assert.Null(ProjectGraph.FindCycle(new Dictionary<string, IReadOnlyList<string>> { ["A"] = ["B"], ["B"] = [] }));
    }
}
