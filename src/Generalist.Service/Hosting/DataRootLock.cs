using Generalist.Service.Kernel;
using Generalist.Training.Ownership;
using Microsoft.Extensions.Logging;

namespace Generalist.Service.Hosting;

/// <summary>
/// The service's exclusive hold on its data root (<c>&lt;root&gt;/.service.lock</c>, see
/// <see cref="DirectoryLock"/>), taken before the registry is opened and kept until the service
/// is disposed. A second `generalist serve` on the same root is refused at start naming the first,
/// instead of marking the first one's live runs interrupted and training them a second time.
/// </summary>
public sealed class DataRootLock : IDisposable
{
    public const string FileName = ".service.lock";
    private readonly DirectoryLock _lock;

    public DataRootLock(DataLayout layout, ILogger<DataRootLock> log)
    {
        Directory.CreateDirectory(layout.Root);
        _lock = DirectoryLock.Acquire(layout.Root, FileName, "generalist serve", "data root");
        if (_lock.Warning is { } weak) log.LogWarning("{Warning}", weak);
    }

    public LockHolder Holder => _lock.Holder;

    public void Dispose() => _lock.Dispose();
}
