// Faster CPU formulations of convolution layers for libtorch 2.10: the same parameters, the same results up to float
// rounding, and clear of a oneDNN kernel bug.
using TorchSharp;
using TorchSharp.Modules;
using static TorchSharp.torch;
using static TorchSharp.torch.nn;

namespace Denoiser.Models;

/// <summary>
/// Each method takes a layer and its input and returns what <c>layer.call(input)</c> returns, computed in a way
/// libtorch runs faster on CPU; on other devices (and within <see cref="Plain"/>) each is the plain call, hooks included. Layers stay ordinary modules, so
/// parameters, initialisation, state-dict keys and exports are untouched. Every choice here was measured with
/// `denoiser bench` against the plain layer (figures in the README).
/// <para>
/// Channels-last also keeps training clear of a libtorch 2.10 / oneDNN bug: in NCHW, the backward-data kernel of a
/// convolution whose out_channels is not a multiple of its 16-channel block (conv3: 8, conv_out: 1) reads padding
/// channels of its blocked buffer that it never zeroed (on these AVX-512 machines: wrong input gradients in 182 of 200
/// trials, NaN training within a few hundred batches). Channels-last tensors take oneDNN's NHWC kernels, which have no
/// such padding. GradientTests fails (relative error 0.3) when ChannelsLast is bypassed.
/// </para>
/// </summary>
public static class CpuLayers
{
    const int OneDnnBlock = 16;

    [ThreadStatic] static bool plain;

    static bool OnCpu(Tensor x) => x.device_type == DeviceType.CPU && !plain;

    /// <summary>
    /// Until disposed, this thread's calls take the plain layers, as on CUDA: `denoiser shapes` traces every layer
    /// call with forward hooks, which the faster forms here bypass. (libtorch has no meta-device convolution to trace on.)
    /// </summary>
    public static IDisposable Plain()
    {
        bool before = plain;
        plain = true;
        return new Restore(() => plain = before);
    }

    sealed class Restore(Action restore) : IDisposable
    {
        public void Dispose() => restore();
    }

    /// <summary>
    /// A convolution followed by a max-pool. While training, the bias is added after the pool: a per-channel constant
    /// commutes with max, so the result is the same, and oneDNN's bias gradient (compute_diff_bias, 5% of training
    /// time at batch 128) gives way to a vectorised sum over a quarter of the values. Measured: training 1.07x.
    /// </summary>
    public static Tensor ConvPool(Conv2d conv, MaxPool2d pool, Tensor x)
    {
        if (!OnCpu(x) || conv.bias is null || !torch.is_grad_enabled()) return pool.call(conv.call(x));
        var y = functional.conv2d(x, conv.weight!, null, conv.stride, conv.padding, conv.dilation, conv.groups);
        return pool.forward(y) + conv.bias!.view(1, -1, 1, 1);
    }

    /// <summary>
    /// The (B, C, H, W) input stored channels-last (NHWC), so that every later layer runs channels-last too: libtorch's
    /// max-pool is vectorised only for that layout (the NCHW one is scalar, 22% of training time), oneDNN skips its
    /// reorders, and the bug above stays away. With one channel no byte moves (both layouts are the same bytes; the
    /// strides alone tell libtorch which it is); with more it is one copy.
    /// </summary>
    public static Tensor ChannelsLast(Tensor x)
    {
        if (!OnCpu(x) || x.dim() != 4) return x;
        if (x.shape[1] != 1) return x.permute(0, 2, 3, 1).contiguous().permute(0, 3, 1, 2);
        x = x.contiguous();
        // TorchSharp's as_strided defaults the offset to 0, not to the view's own: a batch narrowed from a larger
        // tensor would silently read the first batch.
        return x.as_strided(x.shape, new[] { x.shape[2] * x.shape[3], 1, x.shape[3], 1 }, x.storage_offset());
    }

    /// <summary>
    /// A k x k, stride-1 convolution to one channel (conv_out: 32 -> 1), which oneDNN runs at a fraction of its usual
    /// speed. Computed instead as a 1x1 convolution from the input channels to the k*k kernel taps (padded to 16
    /// outputs, oneDNN's SIMD block), then col2im (fold), which adds each tap's plane at its offset. Measured: the
    /// layer 1.6x faster at batch 256, training 1.16x (batch 20) to 1.32x (batch 128) faster; every step has a fast backward.
    /// </summary>
    public static Tensor SingleChannelConv(Conv2d conv, Tensor x)
    {
        long k = conv.kernel_size[0], taps = k * k;
        bool plain = conv.out_channels == 1 && conv.kernel_size[1] == k && conv.stride.All(s => s == 1)
                     && conv.dilation.All(d => d == 1) && conv.groups == 1 && conv.padding_mode == PaddingModes.Zeros
                     && conv.padding is { Length: 2 } p && p[0] * 2 == k - 1 && p[1] * 2 == k - 1 // output size = input size
                     && conv.bias is not null && taps <= OneDnnBlock;
        if (!OnCpu(x) || !plain) return conv.call(x);
        long b = x.shape[0], h = x.shape[2], w = x.shape[3], cin = conv.in_channels;
        // fold adds column t of tap (i, j) at offset (i - p, j - p) from its pixel, while the convolution reads its
        // input at offset (i - p, j - p): the same sum with the taps in reverse order.
        var tapWeights = conv.weight!.reshape(cin, taps).flip(1).t();                                // (taps, Cin)
        var weight = functional.pad(tapWeights, new long[] { 0, 0, 0, OneDnnBlock - taps }).view(OneDnnBlock, cin, 1, 1);
        var planes = functional.conv2d(x, weight).narrow(1, 0, taps).reshape(b, taps, h * w);       // (B, taps, H*W)
        return functional.fold(planes, (h, w), (k, k), padding: (conv.padding![0], conv.padding[1])) + conv.bias!;
    }

    /// <summary>
    /// A transposed convolution; while training, its bias is added apart, because oneDNN computes a transposed
    /// convolution's bias gradient with a reference (scalar) kernel and libtorch's own sum is vectorised
    /// (3% of training time). For inference the one fused call is faster.
    /// </summary>
    public static Tensor ConvTranspose(ConvTranspose2d conv, Tensor x)
    {
        if (!OnCpu(x) || conv.bias is null || !torch.is_grad_enabled()) return conv.call(x);
        return functional.conv_transpose2d(x, conv.weight!, null, conv.stride, conv.padding, conv.output_padding,
                                           conv.dilation, conv.groups) + conv.bias!.view(1, -1, 1, 1);
    }
}
