// Keeps glibc from handing freed memory back to the kernel between batches (the main cost of small-batch libtorch here).
using System.Runtime.InteropServices;

namespace Denoiser;

/// <summary>
/// libtorch frees and reallocates every activation each batch. With glibc's defaults the freed tops of its heaps
/// are trimmed (returned to the kernel) and touched again a moment later, so each batch pays tens of thousands of
/// page faults: measured here, a batch-20 training step ran 3-5x slower and /usr/bin/time counted ~57,000 minor
/// faults per second. Raising the trim threshold and the top pad keeps that memory in the process. Must run before
/// TorchSharp allocates anything; a no-op where the C library is not glibc, or with DENOISER_MALLOC_TUNING=0
/// (to measure the difference).
/// </summary>
public static class MallocTuning
{
    const int M_TRIM_THRESHOLD = -1, M_TOP_PAD = -2, M_MMAP_THRESHOLD = -3;

    [DllImport("libc", EntryPoint = "mallopt")]
    static extern int Mallopt(int param, int value);

    public static bool Applied { get; private set; }

    public static void Apply()
    {
        if (Applied || !OperatingSystem.IsLinux() || Environment.GetEnvironmentVariable("DENOISER_MALLOC_TUNING") == "0") return;
        try
        {
            Applied = Mallopt(M_TRIM_THRESHOLD, 1 << 30) == 1   // keep up to 1 GiB of freed heap top
                    & Mallopt(M_TOP_PAD, 256 << 20) == 1        // grow heaps in 256 MiB steps
                    & Mallopt(M_MMAP_THRESHOLD, 32 << 20) == 1; // activations up to 32 MiB come from the heap
        }
        catch (Exception e) when (e is EntryPointNotFoundException or DllNotFoundException)
        {
            Applied = false; // musl and others: no mallopt, nothing to tune
        }
    }
}
