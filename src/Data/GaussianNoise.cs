// The seed's corruption: x + sigma * N(0, 1), clipped to [0, 1], drawn from an explicit generator.
using TorchSharp;
using static TorchSharp.torch;

namespace Denoiser.Data;

public static class GaussianNoise
{
    /// <summary>A noisy copy of <paramref name="clean"/>; the same generator state gives the same noise.</summary>
    public static Tensor Apply(Tensor clean, double sigma, Generator generator)
    {
        var noise = torch.randn(clean.shape, dtype: clean.dtype, device: clean.device, generator: generator);
        return noise.mul_(sigma).add_(clean).clamp_(0, 1);
    }
}
