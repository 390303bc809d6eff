// The test process configures libtorch as the `denoiser` program does at start-up.
using System.Runtime.CompilerServices;

namespace Denoiser.Tests;

static class TestSetup
{
    /// <summary>
    /// NNPACK off, as Devices.SetThreads does for the program: on these CPUs each small-batch NCHW convolution
    /// otherwise tries to initialise it and prints a warning (hundreds from the shape grid tests, burying the
    /// output). Tests should run the configuration users run.
    /// </summary>
    [ModuleInitializer]
    internal static void ConfigureLibTorch() => NativeRuntime.ConfigureLibTorch();
}
