using System.Runtime.CompilerServices;
using Generalist.Torch;

namespace Generalist.Model.Tests;

internal static class TorchSetup
{
    [ModuleInitializer]
    internal static void Load()
    {
        TorchRuntime.EnsureLoaded();
        // The test models are tiny: one intra-op thread avoids thread hand-off stalls on a
        // shared 2-core machine and keeps reductions in one fixed order.
        TorchSharp.torch.set_num_threads(1);
    }
}
