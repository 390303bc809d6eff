// The one CPU speed trick a batch meets on its way into a model: channels-last storage. Models know nothing of it.
using TorchSharp;
using static TorchSharp.torch;

namespace Denoiser.Cpu;

/// <summary>
/// Which CPU speed tricks are on: all of them by default. `denoiser bench` turns each off in turn and prints what it
/// gains (docs/performance.md); a trick stays only where it earns at least 1.10x on the workload it exists for.
/// </summary>
/// <param name="ChannelsLast">Batches stored NHWC (<see cref="CpuLayout.ChannelsLast"/>).</param>
/// <param name="SplitBatch">A batch runs in parts, one per core, each on its own thread (<see cref="BatchParts"/>).</param>
public sealed record CpuTricks(bool ChannelsLast = true, bool SplitBatch = true)
{
    public static readonly CpuTricks All = new();
    public static readonly CpuTricks None = new(false, false);
}

public static class CpuLayout
{
    /// <summary>
    /// The batch as a model takes it on the CPU: stored channels-last, so that every layer runs channels-last (libtorch
    /// propagates the layout): libtorch's max-pool is vectorised only for it, and oneDNN skips its reorders. On any
    /// other device, or for a tensor that is not (B, C, H, W), the batch as it is. The model is not touched, and its
    /// output is the same up to float rounding.
    /// <para>
    /// It is also a fix: in NCHW, libtorch 2.10's oneDNN backward-data kernel of a convolution whose out_channels is not
    /// a multiple of its 16-channel block (the seed's conv3: 8, conv_out: 1) reads padding of its blocked buffer that it
    /// never zeroed (on these AVX-512 machines: wrong input gradients in 182 of 200 trials, NaN training within a few
    /// hundred batches). Channels-last tensors take oneDNN's NHWC kernels, which have no such padding. CpuLayoutTests
    /// holds every model's gradients to libtorch's reference kernels on NaN-filled memory.
    /// </para>
    /// </summary>
    public static Tensor ForModel(Tensor x) => x.device_type == DeviceType.CPU && x.dim() == 4 ? ChannelsLast(x) : x;

    /// <summary>
    /// The (B, C, H, W) tensor stored channels-last. With one channel no byte moves (both layouts are the same bytes; the
    /// strides alone tell libtorch which it is); with more it is one copy. The result's shape is unchanged; read its
    /// values in NCHW order through contiguous().
    /// </summary>
    public static Tensor ChannelsLast(Tensor x)
    {
        if (x.shape[1] != 1) return x.permute(0, 2, 3, 1).contiguous().permute(0, 3, 1, 2);
        x = x.contiguous();
        // TorchSharp's as_strided defaults the offset to 0, not to the view's own: a batch narrowed from a larger
        // tensor would silently read the first batch.
        return x.as_strided(x.shape, new[] { x.shape[2] * x.shape[3], 1, x.shape[3], 1 }, x.storage_offset());
    }
}
