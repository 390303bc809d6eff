// The per-epoch picture: a row of clean, a row of noisy and a row of denoised test images, like the seed's figure.
using Denoiser.Data;
using TorchSharp;
using static TorchSharp.torch;

namespace Denoiser.Training;

public static class SampleGrid
{
    const int Gap = 2;   // pixels of black between tiles
    const int Scale = 2; // nearest-neighbour upscaling, so 28x28 digits are visible at a glance

    /// <summary>Indices of the first test image of each label 0..9 (or the first ten images when labels repeat less).</summary>
    public static long[] PickIndices(Tensor labels, int count = 10)
    {
        var values = labels.data<long>().ToArray();
        var picked = Enumerable.Range(0, count).Select(d => Array.IndexOf(values, (long)d)).Where(i => i >= 0).ToList();
        foreach (int i in Enumerable.Range(0, values.Length))
            if (picked.Count < Math.Min(count, values.Length) && !picked.Contains(i)) picked.Add(i);
        return picked.Select(i => (long)i).ToArray();
    }

    /// <summary>Lays out rows of (N, C, H, W) images in [0, 1] as one picture of C channels (1 or 3).</summary>
    public static Picture Compose(params Tensor[] rows)
    {
        using var scope = NewDisposeScope();
        int n = (int)rows[0].shape[0], c = (int)rows[0].shape[1], h = (int)rows[0].shape[2], w = (int)rows[0].shape[3];
        int tileH = h * Scale, tileW = w * Scale;
        int width = n * tileW + (n + 1) * Gap, height = rows.Length * tileH + (rows.Length + 1) * Gap;
        var planes = new float[c * width * height];
        for (int r = 0; r < rows.Length; r++)
        {
            var values = rows[r].detach().cpu().to_type(ScalarType.Float32).contiguous().data<float>().ToArray(); // (N, C, H, W)
            for (int i = 0; i < n; i++)
                for (int k = 0; k < c; k++)
                    for (int y = 0; y < tileH; y++)
                        for (int x = 0; x < tileW; x++)
                            planes[(k * height + Gap + r * (tileH + Gap) + y) * width + Gap + i * (tileW + Gap) + x] =
                                values[((i * c + k) * h + y / Scale) * w + x / Scale];
        }
        return new Picture(width, height, c, planes); // clipped and rounded to 8 bits when written
    }
}
