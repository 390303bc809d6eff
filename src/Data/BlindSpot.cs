// Noise2Void's blind spots (Krull, Buchholz and Jug, CVPR 2019): a few pixels of each noisy patch take the value of a
// random neighbour, and the loss is taken at those pixels alone, so a network cannot learn to copy its input there
// and must infer each from its surroundings; with noise independent from pixel to pixel, what it infers is the signal.
namespace Denoiser.Data;

public static class BlindSpot
{
    /// <summary>
    /// One blind spot in each <see cref="Box"/> x <see cref="Box"/> cell, at a uniform place in it (N2V's stratified
    /// sampling): 1/64 = 1.56 % of the pixels, eight times the authors' BSD68 example (0.198 %), so each step on two
    /// cores learns more; still inside the 0.2-2 % the field uses.
    /// </summary>
    public const int Box = 8;

    /// <summary>A spot's new value comes from a pixel drawn uniformly from the 5 x 5 window around it, never the spot
    /// itself (N2V's "uniform without centre pixel"), reflected at the patch's border.</summary>
    public const int Radius = 2;

    /// <summary>
    /// Places the blind spots of a batch of <paramref name="n"/> samples of <paramref name="c"/> x <paramref name="h"/>
    /// x <paramref name="w"/> values (row-major) and overwrites them in <paramref name="batch"/>, the same place and
    /// neighbour for every channel of a sample. Returns the mask, n x h x w, 1 at the spots; and, for each spot in the
    /// order found, the flat index (in one channel plane of its sample) its value came from.
    /// </summary>
    public static (byte[] Mask, List<(int Spot, int Source)> Moves) Apply(float[] batch, int n, int c, int h, int w, Random random)
    {
        if (batch.Length != (long)n * c * h * w) throw new ArgumentException($"the batch holds {batch.Length} values, not {n}x{c}x{h}x{w}");
        if (h < 2 * Radius + 1 || w < 2 * Radius + 1) throw new ArgumentException($"patches of {h}x{w} are smaller than the {2 * Radius + 1}x{2 * Radius + 1} window");
        var mask = new byte[n * h * w];
        var moves = new List<(int Spot, int Source)>();
        for (int s = 0; s < n; s++)
        {
            int first = moves.Count;
            for (int by = 0; by < h; by += Box)
                for (int bx = 0; bx < w; bx += Box)
                {
                    int y = by + random.Next(Math.Min(Box, h - by)), x = bx + random.Next(Math.Min(Box, w - bx));
                    mask[(s * h + y) * w + x] = 1;
                    moves.Add((y * w + x, Neighbour(y, x, h, w, random)));
                }
            // Read every source before writing any spot: a source may itself be a spot, and takes its noisy value.
            for (int ch = 0; ch < c; ch++)
            {
                long plane = ((long)s * c + ch) * h * w;
                var values = moves.Skip(first).Select(m => batch[plane + m.Source]).ToArray();
                for (int k = 0; k < values.Length; k++) batch[plane + moves[first + k].Spot] = values[k];
            }
        }
        return (mask, moves);
    }

    /// <summary>The flat index of the pixel whose value spot (y, x) of an h x w plane takes: see <see cref="Radius"/>.</summary>
    public static int Neighbour(int y, int x, int h, int w, Random random)
    {
        int sy, sx;
        do
        {
            sy = Reflect(y + random.Next(-Radius, Radius + 1), h);
            sx = Reflect(x + random.Next(-Radius, Radius + 1), w);
        } while (sy == y && sx == x); // the centre, or a reflection back onto it
        return sy * w + sx;
    }

    /// <summary>Reflection at the border without repeating the edge (as numpy's "reflect"): -1 -> 1, h -> h - 2.</summary>
    static int Reflect(int i, int size) => i < 0 ? -i : i >= size ? 2 * (size - 1) - i : i;
}
