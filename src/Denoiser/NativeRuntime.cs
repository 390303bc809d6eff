// Process-wide native settings that these machines need: glibc heap trimming off, NNPACK off.
using System.Runtime.InteropServices;

namespace Denoiser;

public static class NativeRuntime
{
    const int M_TRIM_THRESHOLD = -1, M_TOP_PAD = -2, M_MMAP_THRESHOLD = -3, M_MMAP_MAX = -4;

    [DllImport("libc", EntryPoint = "mallopt")]
    static extern int Mallopt(int param, int value);

    [DllImport("torch_cpu", EntryPoint = "_ZN2at13globalContextEv")]
    static extern IntPtr GlobalContext();

    [DllImport("torch_cpu", EntryPoint = "_ZN2at7Context20setUserEnabledNNPACKEb")]
    static extern void SetUserEnabledNnpack(IntPtr context, [MarshalAs(UnmanagedType.U1)] bool enabled);

    public static bool MallocTuned { get; private set; }
    static bool libTorchConfigured;

    /// <summary>
    /// libtorch frees and reallocates every activation each batch. With glibc's defaults the freed tops of its heaps
    /// are trimmed (returned to the kernel) and touched again a moment later, so each batch pays tens of thousands of
    /// page faults: measured here, a batch-20 training step ran 3-5x slower and /usr/bin/time counted ~57,000 minor
    /// faults per second. Raising the trim threshold and the top pad keeps that memory in the process.
    /// Blocks above glibc's mmap threshold (at most 32 MiB) are mapped and unmapped on every allocation, whatever the
    /// trim settings: that is why a plain inference loop at batch 1000 (activations of 100 MB) ran at 620-950 img/s,
    /// every page of every activation faulted in anew (~100,000 faults/s). With mmap off for the heap such blocks come
    /// from the heap too and are reused; measured in one build: batch 1000 2,284 -> 11,019 img/s. Must run
    /// before TorchSharp allocates anything; a no-op where the C library is not glibc, or with
    /// DENOISER_MALLOC_TUNING=0 (to measure the difference).
    /// </summary>
    public static void TuneMalloc()
    {
        if (MallocTuned || !OperatingSystem.IsLinux() || Environment.GetEnvironmentVariable("DENOISER_MALLOC_TUNING") == "0") return;
        try
        {
            MallocTuned = Mallopt(M_TRIM_THRESHOLD, 1 << 30) == 1   // keep up to 1 GiB of freed heap top
                        & Mallopt(M_TOP_PAD, 256 << 20) == 1        // grow heaps in 256 MiB steps
                        & Mallopt(M_MMAP_THRESHOLD, 32 << 20) == 1  // activations up to 32 MiB come from the heap
                        & Mallopt(M_MMAP_MAX, 0) == 1;              // and larger ones too, never mmap'd
        }
        catch (Exception e) when (e is EntryPointNotFoundException or DllNotFoundException)
        {
            MallocTuned = false; // musl and others: no mallopt, nothing to tune
        }
    }

    [DllImport("libc", EntryPoint = "malloc_trim")]
    static extern int MallocTrim(nuint pad);

    /// <summary>
    /// Gives the free memory inside glibc's heaps back to the kernel (malloc_trim also releases free pages in the middle
    /// of a heap, not only at its top). With trimming off for speed (TuneMalloc), the heaps otherwise only grow: training
    /// and evaluation allocate in different patterns on different threads, and a run's resident memory crept up by
    /// ~2 MB an epoch (10-18% over 20-45 epochs). Called once an epoch, between epochs.
    /// </summary>
    public static void ReleaseFreeMemory()
    {
        if (!MallocTuned) return;
        try { MallocTrim(0); }
        catch (Exception e) when (e is EntryPointNotFoundException or DllNotFoundException) { }
    }

    /// <summary>
    /// Turns NNPACK off: libtorch tries it for small-batch CPU convolutions, and on CPUs it does not support (these
    /// machines' among them) each try prints "Could not initialize NNPACK! Reason: Unsupported hardware" and falls
    /// back anyway. Call after TorchSharp has loaded libtorch.
    /// </summary>
    public static void ConfigureLibTorch()
    {
        if (libTorchConfigured) return;
        libTorchConfigured = true;
        _ = TorchSharp.torch.get_num_threads(); // TorchSharp loads libtorch first, from its own probing
        try { SetUserEnabledNnpack(GlobalContext(), false); }
        catch (Exception e) when (e is EntryPointNotFoundException or DllNotFoundException) { } // another libtorch build
    }
}
