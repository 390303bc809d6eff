// Every colour conversion Denoiser makes, in one place: ITU-R BT.601 luma and JPEG's full-range YCbCr (ITU-T T.871).
using static TorchSharp.torch;

namespace Denoiser.Data;

public static class Colour
{
    /// <summary>BT.601 luma weights of R, G and B, as JPEG, Pillow's convert("L") and OpenCV's RGB2GRAY use them.</summary>
    public const float Kr = 0.299f, Kg = 0.587f, Kb = 0.114f;

    // YCbCr from R, G, B (rows: Y, Cb, Cr) and back, full range, chroma centred on 0 (T.871 adds 128/255 to store it).
    static readonly float[,] ToYcc = { { Kr, Kg, Kb }, { -0.168736f, -0.331264f, 0.5f }, { 0.5f, -0.418688f, -0.081312f } };
    static readonly float[,] ToRgb = { { 1, 0, 1.402f }, { 1, -0.344136f, -0.714136f }, { 1, 1.772f, 0 } };

    /// <summary>The luma of (3, n) planes R, G, B: n values, not rounded.</summary>
    public static float[] Luma(float[] rgb) => Mix(rgb, ToYcc, rows: 1);

    /// <summary>(3, n) planes R, G, B to Y, Cb, Cr (Cb and Cr centred on 0).</summary>
    public static float[] ToYCbCr(float[] rgb) => Mix(rgb, ToYcc, rows: 3);

    /// <summary>(3, n) planes Y, Cb, Cr (centred on 0) back to R, G, B, not clipped.</summary>
    public static float[] FromYCbCr(float[] ycc) => Mix(ycc, ToRgb, rows: 3);

    /// <summary>The same on (B, 3, H, W) tensors: luma (B, 1, H, W).</summary>
    public static Tensor Luma(Tensor rgb) => Mix(rgb, ToYcc, rows: 1);

    public static Tensor ToYCbCr(Tensor rgb) => Mix(rgb, ToYcc, rows: 3);

    public static Tensor FromYCbCr(Tensor ycc) => Mix(ycc, ToRgb, rows: 3);

    static float[] Mix(float[] planes, float[,] m, int rows)
    {
        int n = planes.Length / 3;
        var result = new float[rows * n];
        for (int r = 0; r < rows; r++)
            for (int i = 0; i < n; i++)
                result[r * n + i] = (float)((double)m[r, 0] * planes[i] + (double)m[r, 1] * planes[n + i] + (double)m[r, 2] * planes[2 * n + i]);
        return result;
    }

    // As a 1x1 convolution: one multiply-add per pixel and output plane, on any device.
    static Tensor Mix(Tensor planes, float[,] m, int rows)
    {
        using var weight = tensor(Enumerable.Range(0, rows * 3).Select(k => m[k / 3, k % 3]).ToArray(), new long[] { rows, 3, 1, 1 },
                                  dtype: planes.dtype, device: planes.device);
        return nn.functional.conv2d(planes, weight);
    }
}
