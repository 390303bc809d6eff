// The test process configures glibc's heap and libtorch as the `denoiser` program does at start-up.
using System.Runtime.CompilerServices;

namespace Denoiser.Tests;

static class TestSetup
{
    /// <summary>
    /// Tests run the configuration users run. glibc's heap tuned as Program.cs tunes it before anything else
    /// (without it, the training loop measured in this test process ran at about a third of the program's speed);
    /// NNPACK off, as Devices.SetThreads does: on these CPUs each small-batch NCHW convolution otherwise tries to
    /// initialise it and prints a warning (hundreds from the shape grid tests, burying the output). OpenCV loaded as the
    /// program loads it (with GTK's stubs where GTK 3 is missing) before any test calls OpenCvSharp directly: a failed
    /// first load would be cached by its type initializer for the whole process.
    /// </summary>
    [ModuleInitializer]
    internal static void Configure()
    {
        NativeRuntime.TuneMalloc();
        NativeRuntime.ConfigureLibTorch();
        global::Denoiser.Data.OpenCv.Quiet();
    }
}
