// DnCNN (Zhang et al., TIP 2017): 17 convolutions with batch normalisation that predict the noise, as its authors wrote it.
using TorchSharp;
using static TorchSharp.torch;
using static TorchSharp.torch.nn;

namespace Denoiser.Models;

/// <summary>
/// The authors' PyTorch DnCNN (github.com/cszn/DnCNN, TrainingCodes/dncnn_pytorch): Conv2d 1->64 k3 p1 with a bias,
/// ReLU; 15 x [Conv2d 64->64 k3 p1 without bias, BatchNorm2d(64, eps 1e-4, momentum 0.95), ReLU]; Conv2d 64->1 k3 p1
/// without bias. The network estimates the noise, and the model returns the input minus it (residual learning).
/// Held in one Sequential named dncnn, as theirs, so that the state-dict keys are theirs: dncnn.0.weight,
/// dncnn.3.running_mean, ..., dncnn.47.weight. Padding 1 everywhere: any size maps to itself.
/// </summary>
public sealed class DnCNN : Module<Tensor, Tensor>
{
    public const string Kind = "dncnn";

    public static readonly ModelInfo Info = new(Kind, "DnCNN (Zhang et al. 2017): 17 conv layers with batch norm, predicting the noise; grayscale",
        Channels: 1, Side: 40, () => new DnCNN(), SideMultiple: 1, SideRemainder: 0, MinSide: 1);

    private Module<Tensor, Tensor> dncnn = Layers(depth: 17, channels: 64);

    public DnCNN() : base(nameof(DnCNN)) => RegisterComponents();

    static Module<Tensor, Tensor> Layers(int depth, int channels)
    {
        var layers = new List<Module<Tensor, Tensor>> { Conv2d(1, channels, kernel_size: 3, padding: 1), ReLU() };
        for (int i = 0; i < depth - 2; i++)
        {
            layers.Add(Conv2d(channels, channels, kernel_size: 3, padding: 1, bias: false));
            // PyTorch's momentum weights the newest batch: 0.95 keeps 5% of the running statistics each step.
            layers.Add(BatchNorm2d(channels, eps: 1e-4, momentum: 0.95));
            layers.Add(ReLU());
        }
        layers.Add(Conv2d(channels, 1, kernel_size: 3, padding: 1, bias: false));
        return Sequential(layers);
    }

    public override Tensor forward(Tensor x)
    {
        var noise = dncnn.call(x); // (B, 1, H, W)
        return x - noise;
    }
}
