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

    /// <summary>Side of the tiles large images are cut into; each tile's activations are ~32 x 260 x 260 floats.</summary>
    public const int TileSize = 256;
    /// <summary>Overlap of neighbouring tiles, blended linearly: wider than the network's receptive field (~40 px).</summary>
    public const int TileOverlap = 48;

    /// <summary>Denoises one plane of any size: whole when it fits in a tile, else in overlapping, blended tiles.</summary>
    public static GrayImage Denoise(IImageModel model, GrayImage image, int tileSize = TileSize, int overlap = TileOverlap, Action? tileDone = null) =>
        GrayImage.FromUnit(image.Width, image.Height, Denoise(model, image.ToUnit(), image.Height, image.Width, tileSize, overlap, tileDone));

    /// <summary>The same on a plane of floats in [0, 1], row-major, h x w.</summary>
    public static float[] Denoise(IImageModel model, float[] source, int h, int w, int tileSize = TileSize, int overlap = TileOverlap, Action? tileDone = null)
    {
        if (w <= tileSize && h <= tileSize)
        {
            var whole = DenoiseWhole(model, source, h, w);
            tileDone?.Invoke();
            return whole;
        }
        float[] sum = new float[h * w], weight = new float[h * w];
        foreach (int y0 in Starts(h, tileSize, overlap))
            foreach (int x0 in Starts(w, tileSize, overlap))
            {
                int th = Math.Min(tileSize, h), tw = Math.Min(tileSize, w);
                var tile = new float[th * tw];
                for (int y = 0; y < th; y++) Array.Copy(source, (y0 + y) * w + x0, tile, y * tw, tw);
                float[] output = DenoiseWhole(model, tile, th, tw);
                for (int y = 0; y < th; y++)
                    for (int x = 0; x < tw; x++)
                    {
                        // A ramp over the overlap on every side, so seams fade from one tile into the next.
                        float wgt = Ramp(y, th, overlap) * Ramp(x, tw, overlap);
                        sum[(y0 + y) * w + x0 + x] += wgt * output[y * tw + x];
                        weight[(y0 + y) * w + x0 + x] += wgt;
                    }
                tileDone?.Invoke();
            }
        for (int i = 0; i < sum.Length; i++) sum[i] /= weight[i];
        return sum;
    }

    /// <summary>How many tiles <see cref="Denoise"/> will run for an image of this size.</summary>
    public static int TileCount(int width, int height, int tileSize = TileSize, int overlap = TileOverlap) =>
        width <= tileSize && height <= tileSize ? 1 : Starts(height, tileSize, overlap).Count() * Starts(width, tileSize, overlap).Count();

    static IEnumerable<int> Starts(int n, int tile, int overlap)
    {
        if (n <= tile) { yield return 0; yield break; }
        for (int start = 0; ; start += tile - overlap)
        {
            if (start + tile >= n) { yield return n - tile; yield break; }
            yield return start;
        }
    }

    static float Ramp(int i, int n, int overlap) => Math.Min(1f, Math.Min(i + 1, n - i) / (float)(overlap + 1));

    static float[] DenoiseWhole(IImageModel model, float[] source, int h, int w)
    {
        int ph = PaddedSize(h), pw = PaddedSize(w);
        int top = (ph - h) / 2, left = (pw - w) / 2;
        // Reflection (as torch's ReflectionPad: the edge row is not repeated) needs the pad to be smaller than the
        // side; tiny images fall back to repeating the edge.
        bool reflect = ph - h < h && pw - w < w;
        var padded = new float[ph * pw];
        for (int y = 0; y < ph; y++)
            for (int x = 0; x < pw; x++)
                padded[y * pw + x] = source[Source(y - top, h, reflect) * w + Source(x - left, w, reflect)];

        float[] output = model.Run(padded, ph, pw);
        var cropped = new float[h * w];
        for (int y = 0; y < h; y++) Array.Copy(output, (y + top) * pw + left, cropped, y * w, w);
        return cropped;
    }

    static int Source(int i, int n, bool reflect) =>
        i < 0 ? (reflect ? -i : 0) : i >= n ? (reflect ? 2 * (n - 1) - i : n - 1) : i;
}
