// A colour residual U-Net that is told the noise level, after FFDNet (Zhang et al., TIP 2018) and DRUNet (TPAMI 2021),
// cut down for two CPU cores.
using Denoiser.Data;
using TorchSharp;
using static TorchSharp.torch;
using static TorchSharp.torch.nn;

namespace Denoiser.Models;

/// <summary>
/// Input: R, G, B and a fourth plane holding the noise level (the RMS of the noise on the 0-1 scale, the same at every
/// pixel, as FFDNet's map M). Output: R, G, B. The image is first folded into 2x2 blocks (pixel unshuffle: 12 planes at
/// half the size, FFDNet's reversible downsampling), so every layer runs on a quarter of the pixels; then three scales of
/// 48, 96 and 192 channels at 1/2, 1/4 and 1/8 of the size, residual blocks at each, the encoder's activation added to
/// the decoder's; the network estimates the noise of each 2x2 block, unfolded back (pixel shuffle), and the model
/// returns the input minus it.
/// <para>
/// Why: the level input lets one model serve every noise level and lets the user set the strength (a larger level
/// smooths more); the channels are seen together, so colour noise, which a camera's demosaicing and colour matrix
/// spread across R, G and B, is told from colour detail; the fold and the U-Net buy reach cheaply (docs/models.md).
/// No biases, as DRUNet. Sides of 8k map to themselves.
/// </para>
/// </summary>
public sealed class ResUNetRgb : Module<Tensor, Tensor>
{
    public const string Kind = "resunet-rgb";

    public static readonly ModelInfo Info = new(Kind, "a colour residual U-Net told the noise level (after FFDNet and DRUNet): 2x2 fold, 3 scales of 48/96/192 channels; RGB",
        Channels: 3, Side: 96, () => new ResUNetRgb(), SideMultiple: 8, SideRemainder: 0, MinSide: 8)
    {
        TakesNoiseLevel = true,
        // Measured on the shipped weights (EffectiveReach, docs/natural-images.md#tiles): 56 pixels, where the receptive field
        // bounds it at 128. Folded, a 1024 tile's 1136x1136 window's widest activation is 48 x 568 x 568 floats (62 MB).
        Reach = 56,
        TileSide = 512,
        // 12 MP under ONNX Runtime (bench, docs/performance.md): 768 took 7.8 s in 647 MB, 512 8.5 s in 508 MB, 1024 8.0 s in 774 MB.
        OnnxTileSide = 768,
    };

    private Module<Tensor, Tensor> fold = PixelUnshuffle(2);
    private Module<Tensor, Tensor> head = Conv2d(4 * 3 + 1, 48, kernel_size: 3, padding: 1, bias: false);
    private Module<Tensor, Tensor> enc1 = Blocks(48, 1);
    private Module<Tensor, Tensor> down1 = Conv2d(48, 96, kernel_size: 2, stride: 2, bias: false);
    private Module<Tensor, Tensor> enc2 = Blocks(96, 1);
    private Module<Tensor, Tensor> down2 = Conv2d(96, 192, kernel_size: 2, stride: 2, bias: false);
    private Module<Tensor, Tensor> body = Blocks(192, 2);
    private Module<Tensor, Tensor> up2 = ConvTranspose2d(192, 96, kernel_size: 2, stride: 2, bias: false);
    private Module<Tensor, Tensor> dec2 = Blocks(96, 1);
    private Module<Tensor, Tensor> up1 = ConvTranspose2d(96, 48, kernel_size: 2, stride: 2, bias: false);
    private Module<Tensor, Tensor> dec1 = Blocks(48, 1);
    private Module<Tensor, Tensor> tail = Conv2d(48, 4 * 3, kernel_size: 3, padding: 1, bias: false);
    private Module<Tensor, Tensor> unfold = PixelShuffle(2);

    public ResUNetRgb() : base(nameof(ResUNetRgb)) => RegisterComponents();

    static Module<Tensor, Tensor> Blocks(int channels, int count) => ResUNet.Blocks(channels, count); // the grey model's residual blocks

    public override Tensor forward(Tensor x)
    {
        // `using` frees each activation once nothing reads it, as PyTorch's reference counting does; without it all of
        // them live to the end of the pass (a tile's peak memory several times what it needs). Autograd keeps what it needs.
        using var image = x[.., ..3];                             // (B, 3, H, W)
        using var level = functional.avg_pool2d(x[.., 3..4], 2); // (B, 1, H/2, W/2): the map at the folded size
        using var folded = fold.call(image);                      // (B, 12, H/2, W/2)
        using var joined = torch.cat(new[] { folded, level }, 1); // (B, 13, H/2, W/2)
        using var h = head.call(joined);                          // (B, 48, H/2, W/2)
        using var x1 = enc1.call(h);                              // (B, 48, H/2, W/2)
        using var d1 = down1.call(x1);                            // (B, 96, H/4, W/4)
        using var x2 = enc2.call(d1);                             // (B, 96, H/4, W/4)
        using var d2 = down2.call(x2);                            // (B, 192, H/8, W/8)
        using var x3 = body.call(d2);                             // (B, 192, H/8, W/8)
        using var u2 = up2.call(x3).Plus_(x2);                    // (B, 96, H/4, W/4)
        using var y2 = dec2.call(u2);                             // (B, 96, H/4, W/4)
        using var u1 = up1.call(y2).Plus_(x1);                    // (B, 48, H/2, W/2)
        using var y1 = dec1.call(u1);                             // (B, 48, H/2, W/2)
        using var t = tail.call(y1);                              // (B, 12, H/2, W/2)
        using var noise = unfold.call(t);                         // (B, 3, H, W)
        return image - noise;
    }
}
