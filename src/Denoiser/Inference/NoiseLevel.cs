// How noisy a picture is, before any model sees it: Immerkaer's operator with a robust (median) scale.
namespace Denoiser.Inference;

public static class NoiseLevel
{
    /// <summary>
    /// The standard deviation of white Gaussian noise in a plane of floats (same scale out as in). The plane is
    /// filtered with Immerkaer's 3x3 operator [1 -2 1; -2 4 -2; 1 -2 1] (Immerkaer 1996), which cancels smooth image
    /// content and passes noise with gain 6; the scale of the result is taken as its median absolute value over
    /// 0.6745 (Donoho and Johnstone 1994) rather than Immerkaer's mean, so edges and texture weigh less.
    /// Measured on BSD68 (docs/natural-images.md): it overestimates, by 1.0, 0.7 and 0.4 levels on average at sigma 15,
    /// 25 and 50 (0-255 scale); on a strongly textured image by up to 4.5.
    /// </summary>
    static double Estimate(float[] plane, int width, int height)
    {
        if (width < 3 || height < 3) return double.NaN;
        var responses = new float[(width - 2) * (height - 2)];
        int k = 0;
        for (int y = 1; y < height - 1; y++)
            for (int x = 1; x < width - 1; x++)
            {
                int i = y * width + x;
                float r = plane[i - width - 1] - 2 * plane[i - width] + plane[i - width + 1]
                          - 2 * plane[i - 1] + 4 * plane[i] - 2 * plane[i + 1]
                          + plane[i + width - 1] - 2 * plane[i + width] + plane[i + width + 1];
                responses[k++] = Math.Abs(r);
            }
        Array.Sort(responses);
        int n = responses.Length;
        double median = n % 2 == 1 ? responses[n / 2] : (responses[n / 2 - 1] + responses[n / 2]) / 2.0;
        return median / (6 * 0.6745);
    }

    /// <summary>A picture's noise level on the 0-255 scale: the mean of its colour planes' (grey: its one plane's); NaN under 3x3.</summary>
    public static double Estimate(Data.Picture picture) =>
        Enumerable.Range(0, picture.IsColor ? 3 : 1).Average(c => Estimate(picture.Plane(c), picture.Width, picture.Height)) * 255;
}
