using System.Runtime.CompilerServices;
using Generalist.Torch;

namespace Generalist.TestSupport;

/// <summary>
/// Loads libtorch before any test of the assembly runs. Compiled into every test project that sets
/// UsesTorch (tests/Directory.Build.props), since a module initializer runs per assembly.
/// </summary>
internal static class TorchSetup
{
    [ModuleInitializer]
    internal static void Load()
    {
        TorchRuntime.EnsureLoaded();
#if TORCH_TESTS_ONE_THREAD
        // The test models are tiny: one intra-op thread avoids thread hand-off stalls on a
        // shared 2-core machine and keeps reductions in one fixed order.
        TorchSharp.torch.set_num_threads(1);
#endif
    }
}
