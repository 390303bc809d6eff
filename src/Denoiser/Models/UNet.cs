// A small U-Net (Ronneberger et al. 2015): an encoder-decoder whose skip connections carry full-resolution detail.
using TorchSharp;
using TorchSharp.Modules;
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

    private readonly Conv2d down1a = Conv2d(1, 16, kernel_size: 3, padding: 1);
    private readonly Conv2d down1b = Conv2d(16, 16, kernel_size: 3, padding: 1);
    private readonly Conv2d down2a = Conv2d(16, 32, kernel_size: 3, padding: 1);
    private readonly Conv2d down2b = Conv2d(32, 32, kernel_size: 3, padding: 1);
    private readonly Conv2d bottom = Conv2d(32, 64, kernel_size: 3, padding: 1);
    private readonly MaxPool2d pool = MaxPool2d(kernel_size: 2, stride: 2);
    private readonly ConvTranspose2d up2 = ConvTranspose2d(64, 32, kernel_size: 2, stride: 2);
    private readonly Conv2d merge2 = Conv2d(64, 32, kernel_size: 3, padding: 1);
    private readonly ConvTranspose2d up1 = ConvTranspose2d(32, 16, kernel_size: 2, stride: 2);
    private readonly Conv2d merge1 = Conv2d(32, 16, kernel_size: 3, padding: 1);
    private readonly Conv2d correction = Conv2d(16, 1, kernel_size: 1);

    /// <summary>
    /// forward as steps for the ONNX exporter ("push" keeps the current tensor for the matching "cat", which puts it
    /// after the current one along the channels; "residual" adds the model's input; "clip" clips to [0, 1]);
    /// OnnxExportTests checks the two agree.
    /// </summary>
    static readonly string[] Plan =
    {
        "down1a", "relu", "down1b", "relu", "push", "pool", "down2a", "relu", "down2b", "relu", "push", "pool",
        "bottom", "relu", "up2", "cat", "merge2", "relu", "up1", "cat", "merge1", "relu", "correction", "residual", "clip",
    };

    public static readonly ModelInfo Info = new(Kind, "a small residual U-Net: 2 levels with skip connections; grayscale",
        Channels: 1, Side: 28, () => new UNet(), SideMultiple: 4, SideRemainder: 0, MinSide: 4, OnnxPlan: Plan);

    public UNet() : base(nameof(UNet)) => RegisterComponents();

    public override Tensor forward(Tensor input)
    {
        using var scope = NewDisposeScope();
        var x = CpuLayers.ChannelsLast(input); // every layer then runs channels-last on CPU (speed, and the oneDNN bug)
        var skip1 = functional.relu(down1b.call(functional.relu(down1a.call(x))));                 // (B, 16, H, W)
        var skip2 = functional.relu(down2b.call(functional.relu(down2a.call(pool.call(skip1))))); // (B, 32, H/2, W/2)
        var y = functional.relu(bottom.call(pool.call(skip2)));                                      // (B, 64, H/4, W/4)
        y = functional.relu(merge2.call(torch.cat(new[] { up2.call(y), skip2 }, 1)));                // (B, 32, H/2, W/2)
        y = functional.relu(merge1.call(torch.cat(new[] { up1.call(y), skip1 }, 1)));                // (B, 16, H, W)
        var denoised = input + correction.call(y);                                                   // (B, 1, H, W)
        return (training ? denoised : denoised.clamp(0, 1)).contiguous().MoveToOuterDisposeScope();
    }
}
