using System.Text.RegularExpressions;

namespace Generalist.Service.Tests;

/// <summary>
/// The service's layering, read from its sources as text: gRPC and the API (its generated
/// messages, GrpcErrors, the mapping) are named only in Api/ (the adapter) and Hosting/ (the
/// composition root). The domain (Jobs, Registry, Scheduling, Security, Telemetry, Kernel, Page)
/// throws its own exceptions and keeps its own types, which Api/ maps.
/// </summary>
public partial class LayeringTests
{
    private static readonly string[] MayMentionTheApi = ["Api", "Hosting"];

    [Fact]
    public void Only_Api_and_Hosting_mention_gRPC_or_the_API()
    {
        var source = Path.Combine(TelemetryTable.RepositoryRoot(), "src", "Generalist.Service");
        var read = new List<string>();
        var offences = new List<string>();
        foreach (var file in Directory.EnumerateFiles(source, "*.cs", SearchOption.AllDirectories))
        {
            var relative = Path.GetRelativePath(source, file).Replace('\\', '/');
            var folder = relative.Contains('/') ? relative[..relative.IndexOf('/')] : "";
            // obj/ and bin/ hold what the build generates from the protos (gRPC stubs).
            if (folder is "obj" or "bin" || MayMentionTheApi.Contains(folder)) continue;
            read.Add(relative);
            var lines = File.ReadAllLines(file);
            for (var i = 0; i < lines.Length; i++)
                if (lines[i].Contains("Grpc.", StringComparison.Ordinal) || lines[i].Contains("Generalist.Service.Api", StringComparison.Ordinal) || PartlyQualifiedApi().IsMatch(lines[i]))
                    offences.Add($"src/Generalist.Service/{relative}:{i + 1}: {lines[i].Trim()}");
        }
        // The rule reads real sources: a wrong path would pass it vacuously.
        Assert.Contains("Jobs/RunManager.cs", read);
        Assert.Contains("Registry/Records.cs", read);
        Assert.True(offences.Count == 0,
            "outside Api/ and Hosting/, the service names gRPC or its API (throw a domain exception from Kernel/ServiceErrors.cs, " +
            "and map types in Api/):\n" + string.Join("\n", offences));
    }

    // `Api.V1.JobState` or `Api.GrpcErrors` written from inside Generalist.Service, without the namespace's first part.
    [GeneratedRegex(@"(?<![\w.])Api\.[A-Z]")]
    private static partial Regex PartlyQualifiedApi();
}
