// Runs a trained model on an image of any size: pad by reflection to a size the network maps to itself, crop back.
using Denoiser.Data;

namespace Denoiser.Inference;

/// <summary>A model that maps one (1, C, H, W) image in [0, 1] to another of the same size, whatever runs it.</summary>
public interface IImageModel : IDisposable
{
    /// <summary>Which model it is: its channels C and the sizes it maps to themselves.</summary>
    Models.ModelInfo Info { get; }
    /// <summary>What it was trained on (denoise warns about pictures far from it).</summary>
    TrainingDomain Domain { get; }
    /// <param name="image">C planes of height x width, row-major.</param>
    float[] Run(float[] image, int height, int width);
}

public static class ImageDenoiser
{
    /// <summary>
    /// Side of the tiles large images are cut into. 512: the overlap then costs 1.22x the pixels (256: 1.51x), and one
    /// tile's largest activation is 64 x 512 x 512 floats (67 MB, DnCNN), so a 12-megapixel photo stays well under 1 GB.
    /// </summary>
    public const int TileSize = 512;
    /// <summary>Overlap of neighbouring tiles, blended linearly: wider than the network's receptive field (~40 px).</summary>
    public const int TileOverlap = 48;

    /// <summary>Denoises a grayscale image with a 1-channel model: whole when it fits in a tile, else in overlapping, blended tiles.</summary>
    public static GrayImage Denoise(IImageModel model, GrayImage image, int tileSize = TileSize, int overlap = TileOverlap, Action? tileDone = null) =>
        GrayImage.FromUnit(image.Width, image.Height, Denoise(model, image.ToUnit(), image.Height, image.Width, tileSize, overlap, tileDone));

    /// <summary>The same on the model's C planes of floats in [0, 1], each h x w, row-major.</summary>
    public static float[] Denoise(IImageModel model, float[] source, int h, int w, int tileSize = TileSize, int overlap = TileOverlap, Action? tileDone = null)
    {
        int c = model.Info.Channels;
        if (source.Length != c * h * w)
            throw new ArgumentException($"{model.Info.Name} takes {c} plane(s) of {h}x{w}; got {source.Length} values");
        if (w <= tileSize && h <= tileSize)
        {
            var whole = DenoiseWhole(model, source, c, h, w);
            tileDone?.Invoke();
            return whole;
        }
        int th = Math.Min(tileSize, h), tw = Math.Min(tileSize, w);
        float[] sum = new float[c * h * w], tile = new float[c * th * tw];
        // The tiles form a grid and each one's weight is a row ramp times a column ramp, so the weights a pixel
        // gathers are its row's sum times its column's: two short arrays, not another float per pixel.
        float[] rowWeight = new float[h], columnWeight = new float[w];
        foreach (int y0 in Starts(h, tileSize, overlap))
            for (int y = 0; y < th; y++) rowWeight[y0 + y] += Ramp(y, th, overlap);
        foreach (int x0 in Starts(w, tileSize, overlap))
            for (int x = 0; x < tw; x++) columnWeight[x0 + x] += Ramp(x, tw, overlap);
        foreach (int y0 in Starts(h, tileSize, overlap))
            foreach (int x0 in Starts(w, tileSize, overlap))
            {
                for (int k = 0; k < c; k++)
                    for (int y = 0; y < th; y++) Array.Copy(source, (k * h + y0 + y) * w + x0, tile, (k * th + y) * tw, tw);
                float[] output = DenoiseWhole(model, tile, c, th, tw);
                for (int y = 0; y < th; y++)
                    for (int x = 0; x < tw; x++)
                    {
                        // A ramp over the overlap on every side, so seams fade from one tile into the next.
                        float wgt = Ramp(y, th, overlap) * Ramp(x, tw, overlap);
                        for (int k = 0; k < c; k++) sum[(k * h + y0 + y) * w + x0 + x] += wgt * output[(k * th + y) * tw + x];
                    }
                tileDone?.Invoke();
            }
        for (int i = 0; i < sum.Length; i++) sum[i] /= rowWeight[i / w % h] * columnWeight[i % w];
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

    static float[] DenoiseWhole(IImageModel model, float[] source, int c, int h, int w)
    {
        int ph = model.Info.PaddedSide(h), pw = model.Info.PaddedSide(w);
        int top = (ph - h) / 2, left = (pw - w) / 2;
        // Reflection (as torch's ReflectionPad: the edge row is not repeated) needs the pad to be smaller than the
        // side; tiny images fall back to repeating the edge.
        bool reflect = ph - h < h && pw - w < w;
        var padded = new float[c * ph * pw];
        for (int k = 0; k < c; k++)
            for (int y = 0; y < ph; y++)
                for (int x = 0; x < pw; x++)
                    padded[(k * ph + y) * pw + x] = source[(k * h + Source(y - top, h, reflect)) * w + Source(x - left, w, reflect)];

        float[] output = model.Run(padded, ph, pw);
        var cropped = new float[c * h * w];
        for (int k = 0; k < c; k++)
            for (int y = 0; y < h; y++) Array.Copy(output, (k * ph + y + top) * pw + left, cropped, (k * h + y) * w, w);
        return cropped;
    }

    static int Source(int i, int n, bool reflect) =>
        i < 0 ? (reflect ? -i : 0) : i >= n ? (reflect ? 2 * (n - 1) - i : n - 1) : i;
}
