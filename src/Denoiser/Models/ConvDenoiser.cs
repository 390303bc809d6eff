// The seed model: a convolutional denoising autoencoder for 1-channel images, 9,585 parameters.
using TorchSharp;
using static TorchSharp.torch;
using static TorchSharp.torch.nn;

namespace Denoiser.Models;

/// <summary>
/// The tutorials' ConvDenoiser, layer for layer. Field names are the PyTorch attribute names, so state-dict keys
/// (conv1.weight, t_conv1.bias, ...) match a PyTorch checkpoint; renaming a field breaks every saved checkpoint.
/// An input of H x W comes out as (8*floor(H/8) + 4) x (8*floor(W/8) + 4): 28 -> 28, and any H = 4 (mod 8) maps to
/// itself. Transposed convolutions here are learned upsamplers, not inverses of the convolutions.
/// </summary>
public sealed class ConvDenoiser : Module<Tensor, Tensor>
{
    public const string Kind = "conv-denoiser";

    public static readonly ModelInfo Info = new(Kind, "the seed: 3 conv+pool, 3 transposed convs; grayscale",
        Channels: 1, Side: 28, () => new ConvDenoiser(), SideMultiple: 8, SideRemainder: 4, MinSide: 12);

    // Encoder: out = floor((in + 2p - k) / s) + 1, so k3 p1 keeps the size and each 2x2 pool halves it (floor).
    private Module<Tensor, Tensor> conv1 = Conv2d(1, 32, kernel_size: 3, padding: 1);
    private Module<Tensor, Tensor> conv2 = Conv2d(32, 16, kernel_size: 3, padding: 1);
    private Module<Tensor, Tensor> conv3 = Conv2d(16, 8, kernel_size: 3, padding: 1);
    private Module<Tensor, Tensor> pool = MaxPool2d(kernel_size: 2, stride: 2);

    // Decoder: out = (in - 1) * s - 2p + k, so k3 s2 takes 3 -> 7 and k2 s2 doubles.
    private Module<Tensor, Tensor> t_conv1 = ConvTranspose2d(8, 8, kernel_size: 3, stride: 2);
    private Module<Tensor, Tensor> t_conv2 = ConvTranspose2d(8, 16, kernel_size: 2, stride: 2);
    private Module<Tensor, Tensor> t_conv3 = ConvTranspose2d(16, 32, kernel_size: 2, stride: 2);
    private Module<Tensor, Tensor> conv_out = Conv2d(32, 1, kernel_size: 3, padding: 1);

    public ConvDenoiser() : base(nameof(ConvDenoiser)) => RegisterComponents();

    public override Tensor forward(Tensor x)
    {
        x = functional.relu(conv1.call(x)); // (B, 32, 28, 28)
        x = pool.call(x);                   // (B, 32, 14, 14)
        x = functional.relu(conv2.call(x)); // (B, 16, 14, 14)
        x = pool.call(x);                   // (B, 16, 7, 7)
        x = functional.relu(conv3.call(x)); // (B, 8, 7, 7)
        x = pool.call(x);                   // (B, 8, 3, 3)

        x = functional.relu(t_conv1.call(x)); // (B, 8, 7, 7)
        x = functional.relu(t_conv2.call(x)); // (B, 16, 14, 14)
        x = functional.relu(t_conv3.call(x)); // (B, 32, 28, 28)
        x = torch.sigmoid(conv_out.call(x));  // (B, 1, 28, 28)
        return x;
    }
}
