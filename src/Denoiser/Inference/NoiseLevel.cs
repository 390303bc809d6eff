// How noisy a picture is: for white noise, Immerkaer's operator with a robust (median) scale; for a model told the
// noise level, what the model itself removes from the picture's flatter half, which also holds for camera noise.
using Denoiser.Data;

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

    /// <summary>
    /// The level `denoise` estimates and prints for a photograph (0-255 scale): a model told the level estimates it
    /// itself (<see cref="ForModel"/>, on its planes); for any other model, the white-noise estimate.
    /// </summary>
    public static double OfPhotograph(IImageModel model, Picture picture) =>
        model.Info.TakesNoiseLevel ? ForModel(model, picture.As(model.Info.Channels)) : Estimate(picture);

    /// <summary>
    /// The level (0-255 scale) the model is first told for its smooth copy: above most photographs' noise, and low enough
    /// that the copy keeps the picture's structure (told much more, the model flattens texture that then reads as noise).
    /// </summary>
    public const double SmoothingLevel = 12;

    /// <summary>
    /// What the residual's RMS on the flat half is multiplied by: fixed on 100 CBSD432 training images with synthetic
    /// camera and Gaussian noise (tools/photo/calibrate.py: the median of true RMS over estimate; docs/real-photographs.md),
    /// never on the photographs it is scored on.
    /// </summary>
    public const double Calibration = 0.98;

    /// <summary>Side of the crops the estimate runs the model on, and how many at most.</summary>
    const int CropSide = 256, Crops = 4;

    /// <summary>
    /// The noise level (0-255 scale: the RMS of the noise) of <paramref name="picture"/> (its planes as the model takes
    /// them), for a model told the level. The model told a level above the picture's noise gives a smooth copy; the
    /// residual, picture minus copy, holds the noise and, where the copy has edges or texture, some detail, so its RMS is
    /// taken over the flatter half of the picture (where the copy's local gradient is below its median), on up to four
    /// crops spread over it. The copy is first told <see cref="SmoothingLevel"/>; when the noise reads above half of
    /// that, once more at twice the reading. Camera noise, which demosaicing, noise reduction and JPEG make smooth at the
    /// pixel scale, defeats white-noise estimators (on PolyU they read a quarter of the real level); the model was trained
    /// on such noise and removes it.
    /// </summary>
    public static double ForModel(IImageModel model, Picture picture)
    {
        var crops = CropsOf(picture).ToList();
        double reading = Residual(model, crops, SmoothingLevel);
        if (2 * reading > SmoothingLevel) reading = Residual(model, crops, 2 * reading);
        return reading * Calibration;
    }

    /// <summary>The RMS (0-255 scale) of the crops minus the model's copy told <paramref name="level"/>, over their flatter halves.</summary>
    static double Residual(IImageModel model, List<Picture> crops, double level)
    {
        double variance = 0;
        long count = 0;
        foreach (var crop in crops)
        {
            var smooth = ImageDenoiser.Denoise(model, Models.NoiseMap.Append(crop, level / 255)).Planes;
            int w = crop.Width, h = crop.Height, c = crop.Channels, n = w * h;
            var gradient = LocalGradient(smooth, c, w, h);
            float median = Median(gradient);
            // Each plane's residual about its own mean: a model told too much shifts a dark picture's colour a little,
            // and that shift is not noise (read as noise, it raised the next reading: on a dark PolyU picture, 7x).
            for (int k = 0; k < c; k++)
            {
                double sum = 0, squares = 0;
                int m = 0;
                for (int i = 0; i < n; i++)
                {
                    if (gradient[i] > median) continue;
                    double d = crop.Planes[k * n + i] - smooth[k * n + i];
                    sum += d;
                    squares += d * d;
                    m++;
                }
                variance += squares - sum * sum / m;
                count += m;
            }
        }
        return Math.Sqrt(variance / count) * 255;
    }

    /// <summary>|Sobel x| + |Sobel y| of the planes' mean, averaged over a 7x7 box: how much edge or texture is near each pixel.</summary>
    static float[] LocalGradient(float[] planes, int c, int w, int h)
    {
        int n = w * h;
        var mean = new float[n];
        for (int k = 0; k < c; k++)
            for (int i = 0; i < n; i++) mean[i] += planes[k * n + i] / c;
        float At(int y, int x) => mean[Math.Clamp(y, 0, h - 1) * w + Math.Clamp(x, 0, w - 1)];
        var sobel = new float[n];
        for (int y = 0; y < h; y++)
            for (int x = 0; x < w; x++)
            {
                float gx = At(y - 1, x + 1) + 2 * At(y, x + 1) + At(y + 1, x + 1) - At(y - 1, x - 1) - 2 * At(y, x - 1) - At(y + 1, x - 1);
                float gy = At(y + 1, x - 1) + 2 * At(y + 1, x) + At(y + 1, x + 1) - At(y - 1, x - 1) - 2 * At(y - 1, x) - At(y - 1, x + 1);
                sobel[y * w + x] = Math.Abs(gx) + Math.Abs(gy);
            }
        return Box(Box(sobel, w, h, 3, horizontal: true), w, h, 3, horizontal: false);
    }

    static float[] Box(float[] plane, int w, int h, int radius, bool horizontal)
    {
        var result = new float[plane.Length];
        for (int y = 0; y < h; y++)
            for (int x = 0; x < w; x++)
            {
                float sum = 0;
                for (int d = -radius; d <= radius; d++)
                    sum += horizontal ? plane[y * w + Math.Clamp(x + d, 0, w - 1)] : plane[Math.Clamp(y + d, 0, h - 1) * w + x];
                result[y * w + x] = sum / (2 * radius + 1);
            }
        return result;
    }

    static float Median(float[] values)
    {
        var sorted = (float[])values.Clone();
        Array.Sort(sorted);
        return sorted[sorted.Length / 2];
    }

    /// <summary>Up to four crops spread over the picture (the whole picture when it is small).</summary>
    static IEnumerable<Picture> CropsOf(Picture picture)
    {
        int w = picture.Width, h = picture.Height;
        if (w < 2 * CropSide || h < 2 * CropSide)
        {
            yield return picture;
            yield break;
        }
        for (int k = 0; k < Crops; k++)
        {
            // The centres of the four quarters.
            int x0 = (k % 2 * 2 + 1) * w / 4 - CropSide / 2, y0 = (k / 2 * 2 + 1) * h / 4 - CropSide / 2;
            var planes = new float[picture.Channels * CropSide * CropSide];
            for (int c = 0; c < picture.Channels; c++)
                for (int y = 0; y < CropSide; y++)
                    Array.Copy(picture.Planes, (c * h + y0 + y) * w + x0, planes, (c * CropSide + y) * CropSide, CropSide);
            yield return picture with { Width = CropSide, Height = CropSide, Planes = planes };
        }
    }
}
