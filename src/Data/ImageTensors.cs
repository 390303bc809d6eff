// Grayscale images to tensors and back: bytes 0..255 <-> float32 (1, 1, H, W) in [0, 1].
using TorchSharp;
using static TorchSharp.torch;

namespace Denoiser.Data;

public static class ImageTensors
{
    public static Tensor ToTensor(GrayImage image) =>
        torch.tensor(image.Pixels, new long[] { 1, 1, image.Height, image.Width }).to_type(ScalarType.Float32).div_(255f);

    /// <summary>Rounds a (1, 1, H, W) or (H, W) tensor in [0, 1] to 8-bit pixels.</summary>
    public static GrayImage ToImage(Tensor image)
    {
        using var scope = NewDisposeScope();
        var hw = image.reshape(image.shape[^2], image.shape[^1]);
        var bytes = hw.detach().cpu().mul(255f).round_().clamp_(0, 255).to_type(ScalarType.Byte).contiguous();
        return new GrayImage((int)hw.shape[1], (int)hw.shape[0], bytes.data<byte>().ToArray());
    }
}
