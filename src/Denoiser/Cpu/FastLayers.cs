// Faster CPU forms of two layers, for CpuModel to swap in: the same parameters, the same results up to float rounding.
using TorchSharp;
using TorchSharp.Modules;
using static TorchSharp.torch;
using static TorchSharp.torch.nn;

namespace Denoiser.Cpu;

/// <summary>
/// A k x k, stride-1, same-size convolution to one channel (the seed's conv_out: 32 -> 1), which oneDNN runs at a
/// fraction of its usual speed. Computed as a 1x1 convolution from the input channels to the k*k kernel taps (padded
/// to 16 outputs, oneDNN's SIMD block), then col2im (fold), which adds each tap's plane at its offset. Holds the
/// convolution's own weight and bias, so state-dict keys and the optimizer's view do not change.
/// </summary>
public sealed class TapsConv2d : Module<Tensor, Tensor>
{
    const int OneDnnBlock = 16;

    private readonly Parameter weight;
    private readonly Parameter bias;
    private readonly long kernel, padding;

    public TapsConv2d(Conv2d conv) : base(nameof(TapsConv2d))
    {
        if (!Fits(conv)) throw new ArgumentException("TapsConv2d takes a same-size k x k convolution to one channel with a bias");
        weight = conv.weight;
        bias = conv.bias!;
        kernel = conv.kernel_size[0];
        padding = conv.padding![0];
        RegisterComponents();
    }

    public static bool Fits(Conv2d conv) =>
        conv.out_channels == 1 && conv.bias is not null && conv.groups == 1 && conv.padding_mode == PaddingModes.Zeros
        && conv.kernel_size is [var k, var k2] && k == k2 && k * k <= OneDnnBlock
        && conv.stride.All(s => s == 1) && conv.dilation.All(d => d == 1)
        && conv.padding is [var p, var p2] && p == p2 && 2 * p == k - 1;

    public override Tensor forward(Tensor x)
    {
        long b = x.shape[0], cin = x.shape[1], h = x.shape[2], w = x.shape[3], taps = kernel * kernel;
        // fold adds column t of tap (i, j) at offset (i - p, j - p) from its pixel, while the convolution reads its
        // input at offset (i - p, j - p): the same sum with the taps in reverse order.
        var tapWeights = weight.reshape(cin, taps).flip(1).t();                                       // (taps, Cin)
        var padded = functional.pad(tapWeights, new long[] { 0, 0, 0, OneDnnBlock - taps }).view(OneDnnBlock, cin, 1, 1);
        var planes = functional.conv2d(x, padded).narrow(1, 0, taps).reshape(b, taps, h * w);        // (B, taps, H*W)
        return functional.fold(planes, (h, w), (kernel, kernel), padding: (padding, padding)) + bias; // (B, 1, H, W)
    }
}

/// <summary>
/// A transposed convolution whose bias is added apart while training: oneDNN computes a transposed convolution's
/// bias gradient with a reference (scalar) kernel, and libtorch's own sum is vectorised. For inference the one fused
/// call is faster, so it is kept there.
/// </summary>
public sealed class SplitBiasConvTranspose2d : Module<Tensor, Tensor>
{
    private readonly Parameter weight;
    private readonly Parameter bias;
    private readonly long[] stride, padding, output_padding, dilation;
    private readonly long groups;

    public SplitBiasConvTranspose2d(ConvTranspose2d conv) : base(nameof(SplitBiasConvTranspose2d))
    {
        weight = conv.weight;
        bias = conv.bias ?? throw new ArgumentException("SplitBiasConvTranspose2d takes a transposed convolution with a bias");
        (stride, padding, output_padding, dilation, groups) = (conv.stride, conv.padding!, conv.output_padding, conv.dilation, conv.groups);
        RegisterComponents();
    }

    public override Tensor forward(Tensor x)
    {
        if (!torch.is_grad_enabled())
            return functional.conv_transpose2d(x, weight, bias, stride, padding, output_padding, dilation, groups);
        return functional.conv_transpose2d(x, weight, null, stride, padding, output_padding, dilation, groups) + bias.view(1, -1, 1, 1);
    }
}
