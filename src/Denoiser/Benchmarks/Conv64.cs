// A 64-channel convolutional model for `bench`: the kind of photo model DnCNN-style denoisers are (64x64 patches, batch 64).
using TorchSharp;
using static TorchSharp.torch;
using static TorchSharp.torch.nn;

namespace Denoiser.Benchmarks;

/// <summary>Conv 1->64, ReLU; three of Conv 64->64, ReLU; Conv 64->1; the output is the input minus that (residual).</summary>
public sealed class Conv64 : Module<Tensor, Tensor>
{
    private Module<Tensor, Tensor> conv_in = Conv2d(1, 64, kernel_size: 3, padding: 1);
    private Module<Tensor, Tensor> conv1 = Conv2d(64, 64, kernel_size: 3, padding: 1);
    private Module<Tensor, Tensor> conv2 = Conv2d(64, 64, kernel_size: 3, padding: 1);
    private Module<Tensor, Tensor> conv3 = Conv2d(64, 64, kernel_size: 3, padding: 1);
    private Module<Tensor, Tensor> conv_out = Conv2d(64, 1, kernel_size: 3, padding: 1);

    public Conv64() : base(nameof(Conv64)) => RegisterComponents();

    public override Tensor forward(Tensor input)
    {
        var x = functional.relu(conv_in.call(input)); // (B, 64, H, W)
        x = functional.relu(conv1.call(x));
        x = functional.relu(conv2.call(x));
        x = functional.relu(conv3.call(x));
        return input - conv_out.call(x);              // (B, 1, H, W)
    }
}
