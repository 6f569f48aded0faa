using System.Runtime.CompilerServices;
using Generalist.Torch;

namespace Generalist.Studies.Tests;

internal static class TorchSetup
{
    [ModuleInitializer]
    internal static void Load() => TorchRuntime.EnsureLoaded();
}
