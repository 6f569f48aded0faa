using System.Runtime.CompilerServices;
using Generalist.Torch;

namespace Generalist.Reliability.Tests;

internal static class TorchSetup
{
    [ModuleInitializer]
    internal static void Load() => TorchRuntime.EnsureLoaded();
}
