namespace Generalist.Cli.Commands.Bench;

/// <summary>Options shared by every benchmark of `generalist bench`.</summary>
public sealed record BenchOptions(string Preset, string Device, int Repeats, bool Json);

/// <summary>
/// One area's benchmark, selected by its flag (`generalist bench --tokenizers`, `--train`, ...).
/// It prints its own table unless Json is set, and returns a JSON-serializable result.
/// </summary>
public interface IBenchmark
{
    /// <summary>The flag without dashes, e.g. "tokenizers".</summary>
    string Flag { get; }
    string Description { get; }
    Task<object> RunAsync(BenchOptions options, CancellationToken cancellationToken);
}
