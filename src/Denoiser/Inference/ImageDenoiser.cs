// Runs a trained model on an image of any size: pad by reflection to a size the network maps to itself, crop back.
using TorchSharp;
using static TorchSharp.torch;

namespace Denoiser.Inference;

public static class ImageDenoiser
{
    /// <summary>The smallest size >= n that ConvDenoiser maps to itself: 4 (mod 8) and at least 12.</summary>
    public static long PaddedSize(long n)
    {
        long p = Math.Max(n, 12);
        return p + ((4 - p % 8) + 8) % 8;
    }

    /// <summary>Denoises a (1, 1, H, W) image in [0, 1]; returns a (1, 1, H, W) image on the same device.</summary>
    public static Tensor Denoise(nn.Module<Tensor, Tensor> model, Tensor image)
    {
        using var scope = NewDisposeScope();
        long h = image.shape[2], w = image.shape[3];
        long ph = PaddedSize(h) - h, pw = PaddedSize(w) - w;
        long top = ph / 2, left = pw / 2;
        // Reflection needs the pad to be smaller than the side; tiny images fall back to repeating the edge.
        var mode = ph < h && pw < w ? PaddingModes.Reflect : PaddingModes.Replicate;
        var padded = nn.functional.pad(image, new long[] { left, pw - left, top, ph - top }, mode);

        model.eval();
        using var _ = torch.no_grad();
        var output = model.forward(padded);
        if (output.shape[2] != padded.shape[2] || output.shape[3] != padded.shape[3])
            throw new InvalidOperationException($"the model maps {padded.shape[2]}x{padded.shape[3]} to {output.shape[2]}x{output.shape[3]}");
        return output.narrow(2, top, h).narrow(3, left, w).contiguous().MoveToOuterDisposeScope();
    }
}
