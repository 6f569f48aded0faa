namespace Generalist.Datasets.Cache;

/// <summary>Downloads one package archive into a directory. The real one calls the registries' own clients; tests substitute their own.</summary>
public interface IPackageFetcher
{
    /// <summary>Downloads the archive of <paramref name="package"/> into <paramref name="destinationDirectory"/> and returns its path.</summary>
    string Fetch(PackageRef package, string destinationDirectory);
}
