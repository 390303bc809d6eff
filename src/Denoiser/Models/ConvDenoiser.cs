// The seed model: a convolutional denoising autoencoder for 1-channel images, 9,585 parameters.
using TorchSharp;
using TorchSharp.Modules;
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
    /// <summary>The name checkpoints record, so that loading one into another model is refused.</summary>
    public const string Kind = "conv-denoiser";

    // Encoder: out = floor((in + 2p - k) / s) + 1, so k3 p1 keeps the size and each 2x2 pool halves it (floor).
    private readonly Conv2d conv1 = Conv2d(1, 32, kernel_size: 3, padding: 1);
    private readonly Conv2d conv2 = Conv2d(32, 16, kernel_size: 3, padding: 1);
    private readonly Conv2d conv3 = Conv2d(16, 8, kernel_size: 3, padding: 1);
    private readonly MaxPool2d pool = MaxPool2d(kernel_size: 2, stride: 2);

    // Decoder: out = (in - 1) * s - 2p + k, so k3 s2 takes 3 -> 7 and k2 s2 doubles.
    private readonly ConvTranspose2d t_conv1 = ConvTranspose2d(8, 8, kernel_size: 3, stride: 2);
    private readonly ConvTranspose2d t_conv2 = ConvTranspose2d(8, 16, kernel_size: 2, stride: 2);
    private readonly ConvTranspose2d t_conv3 = ConvTranspose2d(16, 32, kernel_size: 2, stride: 2);
    private readonly Conv2d conv_out = Conv2d(32, 1, kernel_size: 3, padding: 1);

    /// <summary>
    /// forward as a sequence of steps (submodule names, or "relu" / "sigmoid"), for the ONNX exporter. Kept beside
    /// forward; OnnxExportTests runs both and fails if they disagree.
    /// </summary>
    public static readonly string[] Plan =
    {
        "conv1", "relu", "pool", "conv2", "relu", "pool", "conv3", "relu", "pool",
        "t_conv1", "relu", "t_conv2", "relu", "t_conv3", "relu", "conv_out", "sigmoid",
    };

    // After Plan: static fields are initialised in the order they are written.
    public static readonly ModelInfo Info = new(Kind, "the seed: 3 conv+pool, 3 transposed convs; grayscale",
        Channels: 1, Side: 28, () => new ConvDenoiser(), SideMultiple: 8, SideRemainder: 4, MinSide: 12, OnnxPlan: Plan);

    public ConvDenoiser() : base(nameof(ConvDenoiser))
    {
        RegisterComponents();
    }

    public override Tensor forward(Tensor x) => forward(x, trace: null);

    /// <summary>The forward pass; <paramref name="trace"/> sees each stage's output (for tests).</summary>
    /// <remarks>
    /// Each stage pools before its ReLU: max-pool and ReLU commute exactly (ReLU is monotonic; the same element wins,
    /// the same gradient flows), and the ReLU then touches a quarter of the values. CpuLayers holds the layers' faster
    /// CPU forms; on other devices they are the plain layers.
    /// </remarks>
    public Tensor forward(Tensor x, Action<string, Tensor>? trace)
    {
        using var scope = NewDisposeScope();
        x = functional.relu(CpuLayers.ConvPool(conv1, pool, CpuLayers.ChannelsLast(x))); // (B, 32, 14, 14)
        trace?.Invoke("conv1+pool", x);
        x = functional.relu(CpuLayers.ConvPool(conv2, pool, x));                        // (B, 16, 7, 7)
        trace?.Invoke("conv2+pool", x);
        x = functional.relu(CpuLayers.ConvPool(conv3, pool, x));                        // (B, 8, 3, 3)
        trace?.Invoke("conv3+pool", x);
        x = functional.relu(CpuLayers.ConvTranspose(t_conv1, x));                       // (B, 8, 7, 7)
        trace?.Invoke("t_conv1", x);
        x = functional.relu(CpuLayers.ConvTranspose(t_conv2, x));                       // (B, 16, 14, 14)
        trace?.Invoke("t_conv2", x);
        x = functional.relu(CpuLayers.ConvTranspose(t_conv3, x));                       // (B, 32, 28, 28)
        trace?.Invoke("t_conv3", x);
        x = torch.sigmoid(CpuLayers.SingleChannelConv(conv_out, x));                    // (B, 1, 28, 28)
        trace?.Invoke("conv_out", x);
        return x.MoveToOuterDisposeScope();
    }

    /// <summary>The output side for an input side <paramref name="n"/>: 8*floor(n/8) + 4.</summary>
    public static long OutputSize(long n) => 8 * (n / 8) + 4;
}
