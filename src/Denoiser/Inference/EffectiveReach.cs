// How far a model's output pixel really looks: the distance beyond which changing the input moves it by less than a
// quarter of a grey level. Tiles need that much margin to be exact to the 8-bit grid; the receptive field is a bound.
using Denoiser.Data;

namespace Denoiser.Inference;

public static class EffectiveReach
{
    /// <summary>The change an output pixel may take from what lies beyond the margin: a quarter of a grey level.</summary>
    public const double Threshold = 0.25 / 255;

    /// <summary>
    /// For each distance d of <paramref name="distances"/>: the largest change of the output over a central block of
    /// <paramref name="block"/> x <paramref name="block"/> pixels of <paramref name="picture"/> (the planes the model
    /// takes, a level plane included) when every pixel farther than d from the block (Chebyshev distance) is replaced by
    /// <paramref name="other"/>'s. The level plane is kept, as a tile keeps it.
    /// </summary>
    public static List<(int Distance, double Change)> Measure(IImageModel model, Picture picture, Picture other, int block, IEnumerable<int> distances)
    {
        int w = picture.Width, h = picture.Height, c = model.Info.Channels;
        int y0 = (h - block) / 2, x0 = (w - block) / 2;
        var reference = ImageDenoiser.Denoise(model, picture, tileSize: Math.Max(w, h)).Planes;
        var changes = new List<(int, double)>();
        foreach (int d in distances)
        {
            var planes = (float[])picture.Planes.Clone();
            for (int k = 0; k < c; k++) // the image's planes; a level plane after them stays
                for (int y = 0; y < h; y++)
                    for (int x = 0; x < w; x++)
                    {
                        int dy = y < y0 ? y0 - y : y >= y0 + block ? y - (y0 + block - 1) : 0;
                        int dx = x < x0 ? x0 - x : x >= x0 + block ? x - (x0 + block - 1) : 0;
                        if (Math.Max(dy, dx) > d) planes[(k * h + y) * w + x] = other.Planes[(k * h + y) * w + x];
                    }
            var output = ImageDenoiser.Denoise(model, picture with { Planes = planes }, tileSize: Math.Max(w, h)).Planes;
            double change = 0;
            for (int k = 0; k < c; k++)
                for (int y = y0; y < y0 + block; y++)
                    for (int x = x0; x < x0 + block; x++)
                        change = Math.Max(change, Math.Abs(output[(k * h + y) * w + x] - reference[(k * h + y) * w + x]));
            changes.Add((d, change));
        }
        return changes;
    }

    /// <summary>The worst case for a picture: every sample turned to its opposite (1 - v), the largest change a pixel can take.</summary>
    public static Picture Opposite(Picture picture, int planes) =>
        picture with { Planes = picture.Planes.Select((v, i) => i < planes * picture.Pixels ? 1 - v : v).ToArray() };
}
