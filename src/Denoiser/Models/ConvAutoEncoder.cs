// The tutorials' second model: a small convolutional autoencoder for 32x32 RGB images (CIFAR-10).
using TorchSharp;
using TorchSharp.Modules;
using static TorchSharp.torch;
using static TorchSharp.torch.nn;

namespace Denoiser.Models;

/// <summary>
/// Conv2d 3->16 k3 p1, SELU, MaxPool 2; Conv2d 16->32 k3 p1, SELU, MaxPool 2; ConvTranspose2d 32->16 k2 s2, ReLU;
/// ConvTranspose2d 16->3 k2 s2, Sigmoid. 32x32 -> 16 -> 8 -> 16 -> 32; any side divisible by 4 maps to itself.
/// Field names are the tutorial's PyTorch attribute names (state-dict keys).
/// </summary>
public sealed class ConvAutoEncoder : Module<Tensor, Tensor>
{
    public const string Kind = "conv-autoencoder";

    private readonly Conv2d conv1 = Conv2d(3, 16, kernel_size: 3, padding: 1);
    private readonly Conv2d conv2 = Conv2d(16, 32, kernel_size: 3, padding: 1);
    private readonly MaxPool2d pool = MaxPool2d(kernel_size: 2, stride: 2);
    // k2 s2: out = (in - 1) * 2 + 2 = 2 * in, the exact opposite of the pool's halving (for even sides).
    private readonly ConvTranspose2d t_conv1 = ConvTranspose2d(32, 16, kernel_size: 2, stride: 2);
    private readonly ConvTranspose2d t_conv2 = ConvTranspose2d(16, 3, kernel_size: 2, stride: 2);

    /// <summary>forward as steps for the ONNX exporter; OnnxExportTests checks the two agree.</summary>
    static readonly string[] Plan = { "conv1", "pool", "selu", "conv2", "pool", "selu", "t_conv1", "relu", "t_conv2", "sigmoid" };

    public static readonly ModelInfo Info = new(Kind, "the tutorials' RGB autoencoder: 2 conv+pool (SELU), 2 transposed convs; colour",
        Channels: 3, Side: 32, () => new ConvAutoEncoder(), SideMultiple: 4, SideRemainder: 0, MinSide: 4, OnnxPlan: Plan);

    public ConvAutoEncoder() : base(nameof(ConvAutoEncoder)) => RegisterComponents();

    public override Tensor forward(Tensor x)
    {
        using var scope = NewDisposeScope();
        // Pool before SELU: SELU is increasing, so the same element wins either way and SELU touches a quarter of
        // the values (as in ConvDenoiser).
        x = functional.selu(pool.call(conv1.call(CpuLayers.ChannelsLast(x)))); // (B, 16, H/2, W/2)
        x = functional.selu(pool.call(conv2.call(x)));                         // (B, 32, H/4, W/4)
        x = functional.relu(t_conv1.call(x));                                  // (B, 16, H/2, W/2)
        x = torch.sigmoid(t_conv2.call(x));                                    // (B, 3, H, W)
        return x.contiguous().MoveToOuterDisposeScope();
    }
}
