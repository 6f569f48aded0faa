namespace Generalist.Tokenizers.Data;

/// <summary>The local cache of fetched data: $GENERALIST_DATA, default ~/.cache/generalist/data.</summary>
public static class DataCache
{
    public const string EnvironmentVariable = "GENERALIST_DATA";

    public static string Root
    {
        get
        {
            var fromEnv = Environment.GetEnvironmentVariable(EnvironmentVariable);
            if (!string.IsNullOrWhiteSpace(fromEnv)) return Path.GetFullPath(fromEnv);
            var home = Environment.GetFolderPath(Environment.SpecialFolder.UserProfile);
            return Path.Combine(home, ".cache", "generalist", "data");
        }
    }
}
