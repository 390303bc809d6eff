// Runs a TorchSharp model on one image, on the chosen device, under eval() and no_grad().
using Denoiser.Data;
using TorchSharp;
using static TorchSharp.torch;

namespace Denoiser.Inference;

public sealed class TorchImageModel(nn.Module<Tensor, Tensor> model, Models.ModelInfo info, Device device, TrainingDomain? domain = null) : IImageModel
{
    // The weights go to the device once, here, wherever the model was loaded.
    readonly nn.Module<Tensor, Tensor> model = model.to(device);

    public Models.ModelInfo Info => info;
    public string Runtime => "libtorch";
    public TrainingDomain Domain { get; } = domain ?? TrainingDomain.Of(info, (Training.TrainSettings?)null);

    public Picture Run(Picture image)
    {
        model.eval();
        using var _ = torch.no_grad();
        using var scope = NewDisposeScope();
        var y = model.call(Cpu.CpuLayout.ForModel(image.ToTensor().to(device)));
        if (y.shape[2] != image.Height || y.shape[3] != image.Width)
            throw new InvalidOperationException($"{info.Name} maps {image.Height}x{image.Width} to {y.shape[2]}x{y.shape[3]}");
        return Picture.FromTensor(y, image.Bits);
    }

    public void Dispose() => model.Dispose();
}
