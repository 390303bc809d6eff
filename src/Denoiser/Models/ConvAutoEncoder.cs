// The tutorials' second model: a small convolutional autoencoder for 32x32 RGB images (CIFAR-10).
using TorchSharp;
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

    public static readonly ModelInfo Info = new(Kind, "the tutorials' RGB autoencoder: 2 conv+pool (SELU), 2 transposed convs; colour",
        Channels: 3, Side: 32, () => new ConvAutoEncoder(), SideMultiple: 4, SideRemainder: 0, MinSide: 4);

    private Module<Tensor, Tensor> conv1 = Conv2d(3, 16, kernel_size: 3, padding: 1);
    private Module<Tensor, Tensor> conv2 = Conv2d(16, 32, kernel_size: 3, padding: 1);
    private Module<Tensor, Tensor> pool = MaxPool2d(kernel_size: 2, stride: 2);
    // k2 s2: out = (in - 1) * 2 + 2 = 2 * in, the exact opposite of the pool's halving (for even sides).
    private Module<Tensor, Tensor> t_conv1 = ConvTranspose2d(32, 16, kernel_size: 2, stride: 2);
    private Module<Tensor, Tensor> t_conv2 = ConvTranspose2d(16, 3, kernel_size: 2, stride: 2);

    public ConvAutoEncoder() : base(nameof(ConvAutoEncoder)) => RegisterComponents();

    public override Tensor forward(Tensor x)
    {
        x = functional.selu(conv1.call(x));   // (B, 16, H, W)
        x = pool.call(x);                     // (B, 16, H/2, W/2)
        x = functional.selu(conv2.call(x));   // (B, 32, H/2, W/2)
        x = pool.call(x);                     // (B, 32, H/4, W/4)
        x = functional.relu(t_conv1.call(x)); // (B, 16, H/2, W/2)
        x = torch.sigmoid(t_conv2.call(x));   // (B, 3, H, W)
        return x;
    }
}
