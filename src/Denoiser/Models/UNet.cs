// A small U-Net (Ronneberger et al. 2015): an encoder-decoder whose skip connections carry full-resolution detail.
using Denoiser.Data;
using TorchSharp;
using static TorchSharp.torch;
using static TorchSharp.torch.nn;

namespace Denoiser.Models;

/// <summary>
/// Two levels of 3x3 convolutions and 2x2 max-pools down (28 -> 14 -> 7), transposed 2x2 convolutions up, and at
/// each level up the encoder's activation concatenated to the upsampled one, so the decoder need not rebuild stroke
/// edges from a 7x7 code, as the seed's must. 1-channel; any side divisible by 4 maps to itself.
/// <para>
/// The network predicts a correction that is added to its input (residual learning, as DnCNN), not the image through
/// a sigmoid: with a sigmoid output it learned the mostly black digits by driving the sigmoid into saturation, where
/// the gradient vanishes, and stayed at a constant black image (measured: 10.15 dB at every learning rate and seed
/// tried). Outside training the result is clipped to [0, 1], the range of images.
/// </para>
/// </summary>
public sealed class UNet : Module<Tensor, Tensor>
{
    public const string Kind = "unet";

    public static readonly ModelInfo Info = new(Kind, "a small residual U-Net: 2 levels with skip connections; grayscale",
        Channels: 1, Side: 28, () => new UNet(), SideMultiple: 4, SideRemainder: 0, MinSide: 4);

    private Module<Tensor, Tensor> down1a = Conv2d(1, 16, kernel_size: 3, padding: 1);
    private Module<Tensor, Tensor> down1b = Conv2d(16, 16, kernel_size: 3, padding: 1);
    private Module<Tensor, Tensor> down2a = Conv2d(16, 32, kernel_size: 3, padding: 1);
    private Module<Tensor, Tensor> down2b = Conv2d(32, 32, kernel_size: 3, padding: 1);
    private Module<Tensor, Tensor> bottom = Conv2d(32, 64, kernel_size: 3, padding: 1);
    private Module<Tensor, Tensor> pool = MaxPool2d(kernel_size: 2, stride: 2);
    private Module<Tensor, Tensor> up2 = ConvTranspose2d(64, 32, kernel_size: 2, stride: 2);
    private Module<Tensor, Tensor> merge2 = Conv2d(64, 32, kernel_size: 3, padding: 1);
    private Module<Tensor, Tensor> up1 = ConvTranspose2d(32, 16, kernel_size: 2, stride: 2);
    private Module<Tensor, Tensor> merge1 = Conv2d(32, 16, kernel_size: 3, padding: 1);
    private Module<Tensor, Tensor> correction = Conv2d(16, 1, kernel_size: 1);

    public UNet() : base(nameof(UNet)) => RegisterComponents();

    public override Tensor forward(Tensor input)
    {
        var skip1 = functional.relu(down1b.call(functional.relu(down1a.call(input))));             // (B, 16, H, W)
        var skip2 = functional.relu(down2b.call(functional.relu(down2a.call(pool.call(skip1))))); // (B, 32, H/2, W/2)
        var x = functional.relu(bottom.call(pool.call(skip2)));                                      // (B, 64, H/4, W/4)
        x = functional.relu(merge2.call(torch.cat(new[] { up2.call(x), skip2 }, 1)));                // (B, 32, H/2, W/2)
        x = functional.relu(merge1.call(torch.cat(new[] { up1.call(x), skip1 }, 1)));                // (B, 16, H, W)
        var denoised = input.Plus(correction.call(x));                                               // (B, 1, H, W); + with its Scalar held (Data/Held)
        return training ? denoised : denoised.Clamp(0, 1);
    }
}
