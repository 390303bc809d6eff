// A blind-spot network's prediction of a pixel never saw that pixel, so it and the noisy value are two independent
// estimates of the clean one, and a plain Noise2Void forward pass throws the second away. Laine, Karras, Lehtinen and
// Aila (NeurIPS 2019) combine them: with Gaussian noise of known sigma and the network's prediction mu taken as a
// Gaussian prior N(mu, e^2), the posterior mean is mu + e^2 / (e^2 + sigma^2) * (y - mu). They let the network
// predict e^2 too; here it is measured, since E[(y - mu)^2] = e^2 + sigma^2 when mu is blind to y's noise: the mean
// of the squared residuals over a window, less sigma^2. Flat regions, where the network is good, keep mu; texture,
// where it is poor, keeps more of y.
using Denoiser.Data;

namespace Denoiser.Inference;

public static class BlindSpotPosterior
{
    /// <summary>
    /// Side of the window the residuals are averaged over, chosen on four Train400 images at sigma 25 with the
    /// Noise2Void run's epoch 5 of 44: sides 5, 9, 15, 25, 35, 51 and 75 gave 27.00, 27.40, 27.53, 27.56, 27.56, 27.53
    /// and 27.47 dB, the whole image 27.23 (docs/self-supervised.md). Smaller windows estimate e^2 from too few
    /// residuals; larger ones mix flat regions with textured ones.
    /// </summary>
    public const int DefaultWindow = 25;

    /// <summary>
    /// The network's blind-spot prediction of every pixel: <see cref="BlindSpot.Box"/>^2 passes, each hiding one
    /// lattice of pixels (one per 8 x 8 cell, as in training) behind a random neighbour's value and keeping the
    /// predictions there. The image is masked before ImageDenoiser pads or tiles it, so no reflected copy of a hidden
    /// pixel reaches the network. Seeded: the same image gives the same prediction.
    /// </summary>
    /// <param name="image">The model's C planes.</param>
    /// <param name="tileSize">As ImageDenoiser's: whole images for evaluation, tiles for large photographs.</param>
    public static Picture Predict(IImageModel model, Picture image, int seed = 1,
                                  int tileSize = ImageDenoiser.TileSize, Action? tileDone = null)
    {
        int h = image.Height, w = image.Width;
        var source = image.Planes;
        if (h < MinSide || w < MinSide)
            throw new ArgumentException($"an image of {w}x{h} is smaller than the blind spots' {MinSide}x{MinSide} window");
        int plane = h * w, c = source.Length / plane;
        var prediction = new float[source.Length];
        var masked = (float[])source.Clone();
        var random = new Random(seed);
        var spots = new List<(int Spot, int Source)>();
        for (int oy = 0; oy < BlindSpot.Box; oy++)
            for (int ox = 0; ox < BlindSpot.Box; ox++)
            {
                spots.Clear();
                for (int y = oy; y < h; y += BlindSpot.Box)
                    for (int x = ox; x < w; x += BlindSpot.Box)
                        spots.Add((y * w + x, BlindSpot.Neighbour(y, x, h, w, random)));
                // Spots are 8 apart and sources within 2 of theirs, so no source is a spot: each spot takes a noisy value.
                for (int k = 0; k < c; k++)
                    foreach (var (spot, from) in spots) masked[k * plane + spot] = source[k * plane + from];
                float[] output = ImageDenoiser.Denoise(model, image with { Planes = masked }, tileSize, tileDone).Planes;
                for (int k = 0; k < c; k++)
                    foreach (var (spot, _) in spots)
                    {
                        prediction[k * plane + spot] = output[k * plane + spot];
                        masked[k * plane + spot] = source[k * plane + spot];
                    }
            }
        return image with { Planes = prediction };
    }

    /// <summary>
    /// The posterior mean of each pixel given its noisy value y and the blind-spot prediction mu, for Gaussian noise
    /// of standard deviation <paramref name="sigma"/> (on the 0-1 scale): mu + g (y - mu), g = e^2 / (e^2 + sigma^2),
    /// e^2 = max(0, mean of (y - mu)^2 over a <paramref name="window"/> x <paramref name="window"/> window - sigma^2),
    /// the window reflected at the border; window 0 takes the mean over the whole plane.
    /// </summary>
    public static Picture Combine(Picture noisyImage, Picture predicted, double sigma, int window = DefaultWindow)
    {
        float[] noisy = noisyImage.Planes, prediction = predicted.Planes;
        int h = noisyImage.Height, w = noisyImage.Width;
        if (noisy.Length != prediction.Length || noisy.Length % (h * w) != 0)
            throw new ArgumentException($"{noisy.Length} noisy and {prediction.Length} predicted values are not planes of {h}x{w}");
        if (window < 0 || window % 2 == 0 && window != 0) throw new ArgumentException($"the window must be odd or 0, not {window}");
        int plane = h * w;
        double variance = sigma * sigma;
        var result = new float[noisy.Length];
        var squared = new double[plane];
        for (int k = 0; k < noisy.Length / plane; k++)
        {
            for (int i = 0; i < plane; i++)
            {
                double r = noisy[k * plane + i] - prediction[k * plane + i];
                squared[i] = r * r;
            }
            double[] local = window == 0 ? Enumerable.Repeat(squared.Average(), plane).ToArray() : BoxMean(squared, h, w, window / 2);
            for (int i = 0; i < plane; i++)
            {
                double prior = Math.Max(0, local[i] - variance), gain = prior / (prior + variance);
                float mu = prediction[k * plane + i];
                result[k * plane + i] = (float)(mu + gain * (noisy[k * plane + i] - mu));
            }
        }
        return noisyImage with { Planes = result };
    }

    /// <summary>Predict, then Combine: the Bayesian final step of a blind-spot network, for Gaussian noise of known sigma.</summary>
    public static Picture Denoise(IImageModel model, Picture noisy, double sigma, int window = DefaultWindow,
                                  int tileSize = ImageDenoiser.TileSize, Action? tileDone = null) =>
        Combine(noisy, Predict(model, noisy, tileSize: tileSize, tileDone: tileDone), sigma, window);

    /// <summary>How many times Predict runs the model on each tile.</summary>
    public const int Passes = BlindSpot.Box * BlindSpot.Box;

    /// <summary>The smallest side Predict takes: the neighbour window's.</summary>
    public const int MinSide = 2 * BlindSpot.Radius + 1;

    /// <summary>The mean over a (2r+1)^2 window, separably, reflected at the border as numpy's "reflect".</summary>
    static double[] BoxMean(double[] values, int h, int w, int r)
    {
        var rows = new double[values.Length];
        var result = new double[values.Length];
        for (int y = 0; y < h; y++)
            for (int x = 0; x < w; x++)
            {
                double sum = 0;
                for (int d = -r; d <= r; d++) sum += values[y * w + Reflect(x + d, w)];
                rows[y * w + x] = sum;
            }
        double count = (2 * r + 1) * (2 * r + 1);
        for (int y = 0; y < h; y++)
            for (int x = 0; x < w; x++)
            {
                double sum = 0;
                for (int d = -r; d <= r; d++) sum += rows[Reflect(y + d, h) * w + x];
                result[y * w + x] = sum / count;
            }
        return result;
    }

    static int Reflect(int i, int n)
    {
        if (n == 1) return 0;
        // Windows wider than the image reflect more than once.
        while (i < 0 || i >= n) i = i < 0 ? -i : 2 * (n - 1) - i;
        return i;
    }
}
