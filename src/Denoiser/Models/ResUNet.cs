// A residual U-Net for photographs, after DRUNet (Zhang et al., TPAMI 2021), cut down for two CPU cores.
using Denoiser.Data;
using TorchSharp;
using static TorchSharp.torch;
using static TorchSharp.torch.nn;

namespace Denoiser.Models;

/// <summary>
/// Three scales (32, 64 and 128 channels at full, half and quarter resolution), residual blocks at each, 2x2 strided
/// convolutions down and 2x2 transposed convolutions up, the encoder's activation added to the decoder's at each scale;
/// the network estimates the noise, and the model returns the input minus it (as DnCNN).
/// <para>
/// Why this shape for a CPU budget: most of DnCNN's 17 full-resolution 64-channel layers are spent on reach, and a U-Net
/// gets reach at a quarter of the pixels, so this model sees a 64-pixel-wide neighbourhood (DnCNN: 35) for a fifth of DnCNN's
/// arithmetic per pixel. No biases and no batch norm, as DRUNet: a bias-free network scales with its input and
/// carries over to noise levels it was not trained at (Mohan et al., ICLR 2020). 1-channel; sides of 4k map to themselves.
/// </para>
/// <para>
/// <c>resunet-told</c> is the same network told the noise level, FFDNet's grey sibling of <see cref="ResUNetRgb"/>: a
/// second input plane holds the level at every pixel, so one model serves every level and `--strength` and `--sigma` mean
/// for grey what they mean for colour. It can start from <c>resunet</c>'s weights (its level plane's at zero).
/// </para>
/// </summary>
public sealed class ResUNet : Module<Tensor, Tensor>
{
    public const string Kind = "resunet";

    public static readonly ModelInfo Info = new(Kind, "a residual U-Net for photographs (after DRUNet): 3 scales of 32/64/128 channels, predicting the noise; grayscale",
        Channels: 1, Side: 64, () => new ResUNet(), SideMultiple: 4, SideRemainder: 0, MinSide: 4)
    {
        Reach = 32, // measured on the shipped weights (EffectiveReach, docs/natural-images.md#tiles); the receptive field bounds it at 64
    };

    public const string ToldKind = "resunet-told";

    public static readonly ModelInfo ToldInfo = new(ToldKind, "a residual U-Net for photographs told the noise level (after DRUNet and FFDNet): 3 scales of 32/64/128 channels; grayscale",
        Channels: 1, Side: 64, () => new ResUNet(told: true), SideMultiple: 4, SideRemainder: 0, MinSide: 4)
    {
        TakesNoiseLevel = true,
        BlindTwin = Kind,
        // Measured on the blind weights it starts from; the shipped told weights hold it (tiles within 1 grey level of the
        // whole picture, ImageDenoiserTests), not measured anew. The receptive field bounds it at 64.
        Reach = 32,
    };

    private readonly bool told;
    private Module<Tensor, Tensor> head;
    private Module<Tensor, Tensor> enc1 = Blocks(32, 1);
    private Module<Tensor, Tensor> down1 = Conv2d(32, 64, kernel_size: 2, stride: 2, bias: false);
    private Module<Tensor, Tensor> enc2 = Blocks(64, 1);
    private Module<Tensor, Tensor> down2 = Conv2d(64, 128, kernel_size: 2, stride: 2, bias: false);
    private Module<Tensor, Tensor> body = Blocks(128, 2);
    private Module<Tensor, Tensor> up2 = ConvTranspose2d(128, 64, kernel_size: 2, stride: 2, bias: false);
    private Module<Tensor, Tensor> dec2 = Blocks(64, 1);
    private Module<Tensor, Tensor> up1 = ConvTranspose2d(64, 32, kernel_size: 2, stride: 2, bias: false);
    private Module<Tensor, Tensor> dec1 = Blocks(32, 1);
    private Module<Tensor, Tensor> tail = Conv2d(32, 1, kernel_size: 3, padding: 1, bias: false);

    /// <param name="told">A second input plane holds the noise level (resunet-told).</param>
    public ResUNet(bool told = false) : base(nameof(ResUNet))
    {
        this.told = told;
        head = Conv2d(told ? 2 : 1, 32, kernel_size: 3, padding: 1, bias: false);
        RegisterComponents();
    }

    /// <summary>Residual blocks in a row (also ResUNetRgb's).</summary>
    internal static Module<Tensor, Tensor> Blocks(int channels, int count) =>
        Sequential(Enumerable.Range(0, count).Select(_ => (Module<Tensor, Tensor>)new ResBlock(channels)).ToArray());

    public override Tensor forward(Tensor x)
    {
        // `using` frees each activation once nothing reads it, as PyTorch's reference counting does (see ResBlock).
        using var h = head.call(x);                    // (B, 32, H, W)
        using var x1 = enc1.call(h);                   // (B, 32, H, W)
        using var d1 = down1.call(x1);                 // (B, 64, H/2, W/2)
        using var x2 = enc2.call(d1);                  // (B, 64, H/2, W/2)
        using var d2 = down2.call(x2);                 // (B, 128, H/4, W/4)
        using var x3 = body.call(d2);                  // (B, 128, H/4, W/4)
        using var u2 = up2.call(x3).Plus_(x2);         // (B, 64, H/2, W/2); in place: one activation fewer
        using var y2 = dec2.call(u2);                  // (B, 64, H/2, W/2)
        using var u1 = up1.call(y2).Plus_(x1);         // (B, 32, H, W)
        using var y1 = dec1.call(u1);                  // (B, 32, H, W)
        using var noise = tail.call(y1);               // (B, 1, H, W)
        if (!told) return x - noise;
        using var image = x[.., ..1];                  // (B, 1, H, W): told, x is (B, 2, H, W), its level plane last
        return image - noise;
    }

    /// <summary>x + conv(relu(conv(x))): DRUNet's block (He et al. 2016, without batch norm).</summary>
    internal sealed class ResBlock : Module<Tensor, Tensor>
    {
        private Module<Tensor, Tensor> conv1, conv2;

        public ResBlock(int channels) : base(nameof(ResBlock))
        {
            conv1 = Conv2d(channels, channels, kernel_size: 3, padding: 1, bias: false);
            conv2 = Conv2d(channels, channels, kernel_size: 3, padding: 1, bias: false);
            RegisterComponents();
        }

        public override Tensor forward(Tensor x)
        {
            // `using` frees what PyTorch's reference counting would: without it every block's temporaries live to the
            // end of the whole pass (measured: 173 MB more peak resident for one 512x512 tile). Autograd keeps what it needs anyway.
            using var h = functional.relu(conv1.call(x), inplace: true);
            using var r = conv2.call(h);
            return x.Plus(r); // x + r
        }
    }
}
