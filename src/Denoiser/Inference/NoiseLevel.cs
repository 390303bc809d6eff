// How noisy a picture is: for white noise, Immerkaer's operator with a robust (median) scale; for a model told the
// noise level, the level at which the model's own residual agrees with it, which also holds for camera noise.
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

    /// <summary>Where <see cref="ForModel"/> looks, on the 0-255 scale: from nearly clean to very noisy.</summary>
    public const double MinLevel = 0.5, MaxLevel = 75;

    /// <summary>
    /// The residual's share of the level at the estimate (see <see cref="ForModel"/>): fixed on training images with
    /// synthetic camera and Gaussian noise (docs/real-photographs.md), never on the photographs it is scored on.
    /// </summary>
    public const double ResidualShare = 0.9;

    /// <summary>Side of the crops the estimate runs the model on, and how many at most.</summary>
    const int CropSide = 128, Crops = 4;

    /// <summary>
    /// The noise level (0-255 scale) to give <paramref name="model"/>, a model told the level, for <paramref name="picture"/>
    /// (its planes as the model takes them). Told a level L, the model removes noise of about that size: while L is below
    /// the picture's noise, the residual (input minus output) has an RMS of about L; above it, the residual stops growing
    /// (it is the noise, plus the detail the model smooths away). The estimate is where the residual's RMS falls to
    /// <see cref="ResidualShare"/> of L, found by bisection on log L over a few crops of the picture. A white-noise
    /// estimator misses camera noise, which demosaicing and JPEG make smooth at the pixel scale (on PolyU it reads a
    /// third of the real level); the model was trained on that noise and knows it.
    /// </summary>
    public static double ForModel(IImageModel model, Picture picture)
    {
        var crops = CropsOf(picture).ToList();
        double Share(double level) // RMS of the residual over level, on the crops
        {
            double sum = 0, count = 0;
            foreach (var crop in crops)
            {
                var output = ImageDenoiser.Denoise(model, Models.NoiseMap.Append(crop, level / 255)).Planes;
                for (int i = 0; i < output.Length; i++)
                {
                    double d = crop.Planes[i] - output[i];
                    sum += d * d;
                }
                count += output.Length;
            }
            return Math.Sqrt(sum / count) * 255 / level;
        }
        double lo = Math.Log(MinLevel), hi = Math.Log(MaxLevel);
        if (Share(MinLevel) <= ResidualShare) return MinLevel;
        if (Share(MaxLevel) >= ResidualShare) return MaxLevel;
        for (int step = 0; step < 12; step++) // to 0.4% of the level
        {
            double mid = (lo + hi) / 2;
            if (Share(Math.Exp(mid)) > ResidualShare) lo = mid; else hi = mid;
        }
        return Math.Exp((lo + hi) / 2);
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
