// Runs a TorchSharp model on one image, on the chosen device, under eval() and no_grad().
using TorchSharp;
using static TorchSharp.torch;

namespace Denoiser.Inference;

public sealed class TorchImageModel(nn.Module<Tensor, Tensor> model, Models.ModelInfo info, Device device, TrainingDomain? domain = null) : IImageModel
{
    public Models.ModelInfo Info => info;
    public TrainingDomain Domain { get; } = domain ?? TrainingDomain.Of(info, (Training.TrainSettings?)null);

    public float[] Run(float[] image, int height, int width)
    {
        model.eval();
        using var _ = torch.no_grad();
        using var scope = NewDisposeScope();
        var x = torch.tensor(image, new long[] { 1, info.Channels, height, width }).to(device);
        var y = model.call(Cpu.CpuLayout.ForModel(x));
        if (y.shape[2] != height || y.shape[3] != width)
            throw new InvalidOperationException($"{info.Name} maps {height}x{width} to {y.shape[2]}x{y.shape[3]}");
        return y.cpu().contiguous().data<float>().ToArray();
    }

    public void Dispose() => model.Dispose();
}
