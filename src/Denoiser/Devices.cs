// The one place a device is chosen: auto picks CUDA when libtorch sees a GPU, else the CPU.
using TorchSharp;

namespace Denoiser;

public static class Devices
{
    public const string DeviceHelp = "auto, cpu or cuda (auto: CUDA when libtorch sees a GPU)";
    public const string ThreadsHelp = "CPU threads for libtorch; 0 = one per core, and never more than the cores";

    /// <summary>The one check of a --device value (command line, appsettings.json or environment).</summary>
    public static string? Problem(string choice) =>
        choice is "auto" or "cpu" or "cuda" ? null : $"--device must be auto, cpu or cuda, not '{choice}'";

    /// <summary>The device a model's weights are on (every model here has some).</summary>
    public static torch.Device Of(torch.nn.Module model) => model.parameters().First().device;

    public static torch.Device Resolve(string choice)
    {
        if (Problem(choice) is { } problem) throw new UserException(problem + ".", ExitCodes.Usage);
        NativeRuntime.ConfigureLibTorch();
        return choice switch
        {
            "cpu" => torch.CPU,
            "cuda" when torch.cuda.is_available() => torch.CUDA,
            "cuda" => throw new UserException(
                "--device cuda: CUDA is not available (no GPU, or a CPU-only TorchSharp build). Use --device cpu, or see the README's CUDA section.",
                ExitCodes.Usage),
            _ => torch.cuda.is_available() ? torch.CUDA : torch.CPU, // auto
        };
    }

    /// <summary>
    /// Sets libtorch's intra-op threads: one per core for 0, and never more than the cores. More threads than cores only
    /// wait for each other: training the seed at batch 20 on 2 cores measured 168 img/s with 8 threads and 74 with 16,
    /// against 1,610 with 2 (`bench --threads 8`, before this cap).
    /// </summary>
    public static int SetThreads(int threads)
    {
        int n = threads > 0 ? Math.Min(threads, Environment.ProcessorCount) : Environment.ProcessorCount;
        torch.set_num_threads(n);
        NativeRuntime.ConfigureLibTorch();
        return n;
    }
}
