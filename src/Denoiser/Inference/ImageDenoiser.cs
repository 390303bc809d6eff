// Runs a trained model on an image of any size: pad by reflection to a size the network maps to itself, crop back.
using Denoiser.Data;

namespace Denoiser.Inference;

/// <summary>A model that maps one (1, 1, H, W) image in [0, 1] to another of the same size, whatever runs it.</summary>
public interface IImageModel : IDisposable
{
    float[] Run(float[] image, int height, int width);
}

public static class ImageDenoiser
{
    /// <summary>The smallest size >= n that ConvDenoiser maps to itself: 4 (mod 8) and at least 12.</summary>
    public static int PaddedSize(int n)
    {
        int p = Math.Max(n, 12);
        return p + ((4 - p % 8) + 8) % 8;
    }

    public static GrayImage Denoise(IImageModel model, GrayImage image)
    {
        int h = image.Height, w = image.Width, ph = PaddedSize(h), pw = PaddedSize(w);
        int top = (ph - h) / 2, left = (pw - w) / 2;
        // Reflection (as torch's ReflectionPad: the edge row is not repeated) needs the pad to be smaller than the
        // side; tiny images fall back to repeating the edge.
        bool reflect = ph - h < h && pw - w < w;
        float[] source = image.ToUnit(), padded = new float[ph * pw];
        for (int y = 0; y < ph; y++)
            for (int x = 0; x < pw; x++)
                padded[y * pw + x] = source[Source(y - top, h, reflect) * w + Source(x - left, w, reflect)];

        float[] output = model.Run(padded, ph, pw);
        var cropped = new float[h * w];
        for (int y = 0; y < h; y++) Array.Copy(output, (y + top) * pw + left, cropped, y * w, w);
        return GrayImage.FromUnit(w, h, cropped);
    }

    static int Source(int i, int n, bool reflect) =>
        i < 0 ? (reflect ? -i : 0) : i >= n ? (reflect ? 2 * (n - 1) - i : n - 1) : i;
}
