namespace Generalist.Datasets.Cache;

/// <summary>A package could not be fetched or failed verification; the message names it and the command to run by hand.</summary>
public sealed class PackageUnavailableException(string message, Exception? inner = null) : Exception(message, inner);
