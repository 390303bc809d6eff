// A Conv2d forward whose CPU backward avoids a libtorch 2.10 / oneDNN kernel that reads uninitialised memory.
using TorchSharp;
using TorchSharp.Modules;
using static TorchSharp.torch;
using static TorchSharp.torch.nn;

namespace Denoiser.Models;

/// <summary>
/// On CPUs with AVX-512 (AVX2: likewise for 1 channel), libtorch 2.10's oneDNN backward-data kernel for a
/// convolution whose out_channels is not a multiple of the 16-channel SIMD block reads the padded channels of
/// its blocked gradient buffer without their being zeroed: the input gradient comes out wrong, or NaN when the
/// reused memory held NaN. Measured on these machines: ConvDenoiser's conv3 (8 out) and conv_out (1 out) gave
/// wrong gradients in 182 of 200 pollution trials, and training hit NaN within a few hundred batches.
/// For such layers on CPU this computes the input gradient as a forward convolution with the flipped, transposed
/// kernel (exact for stride 1), and the weight gradient through libtorch's weight-only backward, which is sound.
/// The layer stays an ordinary Conv2d, so parameters, initialisation and state-dict keys are untouched; elsewhere
/// (CUDA, inference, unaffected shapes) it is the plain Conv2d forward. Pinned by ConvDenoiserGradientTests.
/// </summary>
public static class CpuSafeConv
{
    const int OneDnnBlock = 16;

    public static Tensor Forward(Conv2d conv, Tensor x)
    {
        bool affected = conv.out_channels % OneDnnBlock != 0 && x.device_type == DeviceType.CPU;
        bool plain = conv.stride.All(s => s == 1) && conv.dilation.All(d => d == 1) && conv.groups == 1
                     && conv.padding is { Length: 2 } && conv.padding_mode == PaddingModes.Zeros && conv.bias is not null;
        bool training = torch.is_grad_enabled() && (x.requires_grad || conv.weight.requires_grad);
        if (!affected || !plain || !training) return conv.forward(x);
        return SafeConvFunction.apply(x, conv.weight, conv.bias!, conv.padding![0], conv.padding[1]);
    }

    sealed class SafeConvFunction : autograd.SingleTensorFunction<SafeConvFunction>
    {
        public override string Name => "CpuSafeConv2dBackward";

        public override Tensor forward(autograd.AutogradContext ctx, params object[] vars)
        {
            var (x, w, b) = ((Tensor)vars[0], (Tensor)vars[1], (Tensor)vars[2]);
            long[] padding = { (long)vars[3], (long)vars[4] };
            ctx.save_for_backward(new() { x, w });
            ctx.save_data("padding", padding);
            return functional.conv2d(x, w, b, padding: padding);
        }

        public override List<Tensor> backward(autograd.AutogradContext ctx, Tensor gy)
        {
            var saved = ctx.get_saved_variables();
            var (x, w) = (saved[0], saved[1]);
            var padding = (long[])ctx.get_data("padding");
            // d(conv)/dx for stride 1 is a convolution of gy with the kernel flipped and in/out swapped,
            // padded by k - 1 - p (the transposed-convolution identity).
            long[] back = { w.shape[2] - 1 - padding[0], w.shape[3] - 1 - padding[1] };
            var gx = x.requires_grad ? functional.conv2d(gy, w.flip(2, 3).transpose(0, 1), padding: back) : null;
            Tensor gw;
            using (torch.enable_grad())
            {
                using var wd = w.detach().requires_grad_(true);
                using var y = functional.conv2d(x.detach(), wd, null, padding: padding);
                gw = autograd.grad(new[] { y }, new[] { wd }, new[] { gy })[0];
            }
            var gb = gy.sum(new long[] { 0, 2, 3 });
            return new() { gx!, gw, gb, null!, null! }; // no gradients for the two padding integers
        }
    }
}
